// Webview entry (bundled by esbuild.mjs → dist/webview.js, dist/webview.css).
// Only the components used are imported; each registers its custom element.
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import './styles.css';
import { App } from './app';
import { getVsCodeApi } from './vscodeApi';

const root = document.getElementById('app') ?? document.body;
new App(getVsCodeApi(), root).start();
