import { CodeServerSession } from '../helpers/codeServer';
(async () => {
  const t0 = Date.now();
  const s = await CodeServerSession.start({});
  console.log('started in', Date.now() - t0);
  try {
    await s.clickActivityBar('UCP Backup');
    await s.page.waitForTimeout(6000);
    console.log(await s.treeTexts());
    for (const r of await s.treeRows().all()) console.log(await r.getAttribute('aria-label'), '|', await r.locator('.custom-view-tree-node-item-icon, .codicon').first().getAttribute('class').catch(() => 'none'));
    await s.page.screenshot({ path: '/tmp/e2e-scratch/a.png' });
  } finally { await s.close(); }
  console.log('total', Date.now() - t0);
})().catch((e) => { console.error(e); process.exit(1); });
