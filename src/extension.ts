/** Extension entry: everything VS Code-specific lives in src/vscode. */
export { activate, deactivate } from './vscode/activate';
