import { CodeServerSession } from '../helpers/codeServer';
(async () => {
  const t0 = Date.now();
  const s = await CodeServerSession.start({ clusters: [] });
  console.log('started in', Date.now() - t0);
  try {
    await s.clickActivityBar('UCP Backup');
    await s.page.waitForTimeout(3000);
    console.log(await s.page.locator('.part.sidebar').innerText());
    await s.page.screenshot({ path: '/tmp/e2e-scratch/a.png' });
  } finally { await s.close(); }
  console.log('total', Date.now() - t0);
})().catch((e) => { console.error(e); process.exit(1); });
