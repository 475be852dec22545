// console.mjs - the web console in a real browser: Playwright (playwright-core)
// driving Debian's Chromium against a running alertbridged.
//
// Environment (tests/integration/console_browser.sh sets it):
//   AB_URL       the console, "http://127.0.0.1:PORT/ui"
//   AB_CLI       the alertbridge program, AB_CONF its configuration
//   AB_SHOTS     where the screenshots go (the test's artifacts)
//   CHROMIUM     the browser (default /usr/bin/chromium)
// Prints TAP: one line per check, numbered from AB_TAP_START + 1 (the
// caller's plan counts them), or from 1 with "1..N" at the end.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const base = process.env.AB_URL;
const shots = process.env.AB_SHOTS;
let n = Number(process.env.AB_TAP_START || '0');   // checks before this script's
let failed = 0;

function ok(cond, name, detail) {
  n++;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${name}`);
  if (!cond) {
    failed++;
    if (detail !== undefined) console.log(`#   ${String(detail).replace(/\n/g, '\n#   ')}`);
  }
}

function send(type, title, severity = 'critical', team = 'secops') {
  const ev = JSON.stringify({ type, title, severity, team, tool: 'zap',
    url: 'https://dojo.example.com/finding/42' });
  return execFileSync(process.env.AB_CLI, ['-c', process.env.AB_CONF, 'send', '-'],
    { input: ev, stdio: ['pipe', 'pipe', 'ignore'] }).toString().trim();
}

async function until(fn, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
try {
  const ctx = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  const page = await ctx.newPage();
  const dialogs = [];
  const streams = [];
  page.on('request', (r) => { if (r.url().endsWith('/ui/events')) streams.push(r.url()); });
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });

  // --- sign in
  let resp = await page.goto(`${base}/`);
  ok(page.url().endsWith('/ui/login'), 'a page without a session goes to the sign-in', page.url());
  const csp = resp.headers()['content-security-policy'] || '';
  ok(/default-src 'none'/.test(csp) && /frame-ancestors 'none'/.test(csp),
    'the sign-in page has a strict Content-Security-Policy', csp);
  await page.getByLabel('User name').fill('alice');
  await page.getByLabel('Password').fill('wrong password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  ok(await page.getByText('Wrong user name or password.').isVisible(), 'a wrong password is refused');
  await page.getByLabel('User name').fill('alice');
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign in' }).click();
  ok(page.url() === `${base}/`, 'signed in: the alert list', page.url());
  const cookies = await ctx.cookies();
  const sc = cookies.find((c) => c.name === 'ab_session');
  ok(sc && sc.httpOnly && sc.secure && sc.sameSite === 'Strict',
    'the session cookie is HttpOnly, Secure, SameSite=Strict', JSON.stringify(sc));
  await page.screenshot({ path: `${shots}/01-list.png`, fullPage: true });

  // --- an alert arrives live
  const bell = page.locator('#unread');
  const before = Number(await bell.textContent());
  send('finding.created', 'Live: SQL injection in /login');
  ok(await until(async () => Number(await bell.textContent()) === before + 1),
    'the bell counts a new alert without a reload', await bell.textContent());
  ok(streams.length >= 1, 'live through Server-Sent Events (/ui/events)', streams.length);
  await page.reload();
  const item = page.locator('li.alert', { hasText: 'Live: SQL injection in /login' });
  ok(await item.count() === 1, 'the new alert is in the list');
  ok(await item.locator('.sev-critical').count() === 1, 'with its severity colour');

  // --- read it: the count drops, the item stays
  await item.getByRole('link', { name: 'Live: SQL injection in /login' }).click();
  ok(await page.getByRole('heading', { name: 'Alert' }).isVisible(), 'the alert page');
  ok(await page.locator('table.event').first().getByText('finding.created').isVisible(),
    'the alert page shows the event');
  ok(/Why you got it: rule 'findings': every member on team 'secops'/.test(await page.locator('p.why').textContent()),
    'the alert page says which rule sent it, and how', await page.locator('p.why').count());
  await page.screenshot({ path: `${shots}/02-alert.png`, fullPage: true });
  await page.getByRole('link', { name: 'Back to the alerts' }).click();
  ok(Number(await page.locator('#unread').textContent()) === before,
    'reading it takes it off the unread count');
  ok(await page.locator('li.alert.read', { hasText: 'Live: SQL injection' }).count() === 1,
    'and it stays in the list, read');

  // --- an XSS payload in a title is inert
  send('finding.created', '<img src=x onerror=alert(1)><script>alert(2)</script>XSS');
  await until(async () => {
    await page.reload();
    return await page.getByText('<script>alert(2)</script>XSS', { exact: false }).count() === 1;
  });
  ok(dialogs.length === 0 && await page.getByText('<script>alert(2)</script>XSS', { exact: false }).count() === 1,
    'an XSS payload in an alert title shows as text and runs nothing', dialogs.join(','));

  // --- remove two of three selected
  for (const t of ['Sel A', 'Sel B', 'Sel C']) send('finding.created', t, 'high');
  // two workers deliver them: C may come before B, so wait for all three
  await until(async () => {
    await page.reload();
    return await page.locator('li.alert', { hasText: /Sel [ABC]/ }).count() === 3;
  });
  await page.locator('li.alert', { hasText: 'Sel A' }).getByRole('checkbox').check();
  await page.locator('li.alert', { hasText: 'Sel B' }).getByRole('checkbox').check();
  await page.getByRole('button', { name: 'Remove selected' }).click();
  ok(await page.locator('li.alert', { hasText: /Sel [AB]/ }).count() === 0, 'the two selected are removed');
  ok(await page.locator('li.alert', { hasText: 'Sel C' }).count() === 1, 'the third stays');

  // --- security: a POST without the CSRF token; another user's alert
  const nocsrf = await page.request.post(`${base}/clear`, { form: { confirm: 'yes' },
    maxRedirects: 0 });
  ok(nocsrf.status() === 403, 'a POST without the CSRF token is refused (403)', nocsrf.status());
  ok(await page.locator('li.alert', { hasText: 'Sel C' }).count() === 1, 'and changed nothing');
  const other = Number(process.env.AB_OTHER_ID || '1');
  resp = await page.goto(`${base}/alert/${other}`);
  ok(resp.status() === 404, "another user's alert id is not found (404)", resp.status());
  await page.goto(`${base}/`);

  // --- clear all, with a confirmation
  await page.getByRole('link', { name: 'Clear all' }).click();
  ok(await page.getByRole('heading', { name: 'Clear all alerts?' }).isVisible(), 'clear all asks first');
  await page.screenshot({ path: `${shots}/03-clear.png`, fullPage: true });
  await page.getByRole('button', { name: 'Clear all' }).click();
  ok(await page.getByText('No alerts.').isVisible(), 'clear all empties the list');

  // --- preferences: findings in-app off, saved at once, the next finding follows it
  await page.getByRole('link', { name: 'Preferences' }).click();
  // The page saves on change from its deferred script: wait until it has run
  // (a slow daemon, as under ASan, may still be serving app.js).
  await page.waitForLoadState('load');
  ok(await page.getByRole('row', { name: /Mentions.*kept on by the system/ }).count() === 1,
    'the preferences show what the system override keeps on');
  await Promise.all([page.waitForNavigation(),
    page.getByLabel('Findings by In-app').selectOption('off')]);
  ok(await page.getByText('Saved: the next alerts follow your preferences.').isVisible(),
    'a changed preference is saved at once');
  ok(await page.getByLabel('Findings by In-app').inputValue() === 'off', 'and shows as set');
  await page.screenshot({ path: `${shots}/04-prefs.png`, fullPage: true });
  send('finding.created', 'Pref: after turning findings off');
  send('scan.completed', 'Pref: a scan the rules send', 'high');
  await page.goto(`${base}/`);
  ok(await until(async () => { await page.reload(); return await page.locator('li.alert', { hasText: 'Pref: a scan' }).count() === 1; }),
    'an alert the preference does not touch still arrives');
  ok(await page.locator('li.alert', { hasText: 'Pref: after turning findings off' }).count() === 0,
    'the next finding follows the preference: not in the list');

  // --- sign out; the old cookie is worth nothing
  const sid = (await ctx.cookies()).find((c) => c.name === 'ab_session').value;
  await page.getByRole('button', { name: 'Sign out' }).click();
  ok(page.url().endsWith('/ui/login'), 'signed out', page.url());
  const ctx2 = await browser.newContext();
  await ctx2.addCookies([{ name: 'ab_session', value: sid, domain: '127.0.0.1', path: '/ui/',
    secure: true, httpOnly: true, sameSite: 'Strict' }]);
  const p2 = await ctx2.newPage();
  await p2.goto(`${base}/`);
  ok(p2.url().endsWith('/ui/login'), 'the session cookie after sign-out leads to the sign-in', p2.url());
  await ctx2.close();

  // --- on a phone
  const phone = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true });
  const pp = await phone.newPage();
  await pp.goto(`${base}/login`);
  const width = await pp.evaluate(() => document.documentElement.scrollWidth);
  ok(width <= 375, 'the sign-in fits a phone screen (no sideways scrolling)', width);
  // keyboard only: Tab to each field, type, Enter
  await pp.keyboard.type('root');          // the user name field has the focus
  await pp.keyboard.press('Tab');
  await pp.keyboard.type('admin password 1');
  await pp.keyboard.press('Enter');
  await pp.waitForURL(`${base}/`);
  ok(pp.url() === `${base}/`, 'signing in works with the keyboard alone', pp.url());
  const wide = [];
  for (const path of ['/', '/prefs', '/admin']) {
    await pp.goto(`${base}${path}`);
    const w = await pp.evaluate(() => document.documentElement.scrollWidth);
    if (w > 375) wide.push(`${path}: ${w}`);
  }
  ok(wide.length === 0, 'the list, preferences and admin pages fit a phone screen', wide.join(', '));
  await pp.goto(`${base}/`);
  await pp.screenshot({ path: `${shots}/05-phone.png` });
  await phone.close();

  // --- an admin: channel health, send test, dead letters and replay, the log
  const adm = await browser.newContext();
  const ap = await adm.newPage();
  await ap.goto(`${base}/login`);
  await ap.getByLabel('User name').fill('root');
  await ap.getByLabel('Password').fill('admin password 1');
  await ap.getByRole('button', { name: 'Sign in' }).click();
  await ap.getByRole('link', { name: 'Admin' }).click();
  ok(await ap.getByRole('heading', { name: 'Admin' }).isVisible(), 'an admin reaches the admin page');
  const hookRow = ap.locator('#channels tr', { hasText: 'hook' });
  const cells = await hookRow.locator('td').allTextContents();
  ok(cells[2] === '1', 'the channel shows its consecutive failures', cells.join(' | '));
  ok(/HTTP 400/.test(cells[3]), 'and its last error', cells.join(' | '));
  ok(/Queue: \d+ queued, \d+ running, 1 dead/.test(await ap.locator('#queue-depth').textContent()),
    'the queue depth counts the dead letter', await ap.locator('#queue-depth').textContent());
  ok(await ap.locator('#dead tr', { hasText: 'hook' }).count() === 1, 'the dead letter is listed');
  await ap.screenshot({ path: `${shots}/06-admin.png`, fullPage: true });
  writeFileSync(process.env.AB_SINK_CONTROL, '{"mode": "ok"}');
  await ap.locator('#dead tr', { hasText: 'hook' }).getByRole('button', { name: /Replay/ }).click();
  ok(/replayed: queued again/.test(await ap.locator('#note').textContent()), 'Replay queues it again',
    await ap.locator('#note').textContent());
  ok(await until(() => readFileSync(process.env.AB_SINK_RECORD, 'utf8').includes('Backup failed')),
    'the replayed alert is delivered');
  await ap.getByRole('button', { name: 'Send a test to hook' }).click();
  ok(/Test of hook: ok \(delivered\)/.test(await ap.locator('#note').textContent()),
    'Send test shows its result', await ap.locator('#note').textContent());
  await ap.getByLabel('Result').selectOption('permanent');
  await ap.getByRole('button', { name: 'Filter' }).click();
  const rows = await ap.locator('#log tbody tr').allTextContents();
  ok(rows.length >= 1 && rows.every((r) => /permanent/.test(r)), 'the delivery log filters by result',
    rows.join(' | '));
  const user = await browser.newContext();
  const up = await user.newPage();
  await up.goto(`${base}/login`);
  await up.getByLabel('User name').fill('alice');
  await up.getByLabel('Password').fill('correct horse battery');
  await up.getByRole('button', { name: 'Sign in' }).click();
  const na = await up.goto(`${base}/admin`);
  ok(na.status() === 403 && await up.getByRole('link', { name: 'Admin' }).count() === 0,
    'a user who is no admin gets no admin page (403, no link)', na.status());
  await user.close();
  await adm.close();

  // --- brute force: throttled
  const bf = await browser.newContext();
  const bp = await bf.newPage();
  let last = 0;
  for (let i = 0; i < 7; i++) {
    await bp.goto(`${base}/login`);
    await bp.getByLabel('User name').fill('bob');
    await bp.getByLabel('Password').fill(`guess-${i}`);
    const [r] = await Promise.all([bp.waitForResponse((x) => x.url().endsWith('/ui/login') && x.request().method() === 'POST'),
      bp.getByRole('button', { name: 'Sign in' }).click()]);
    last = r.status();
  }
  ok(last === 429, 'repeated failed sign-ins are throttled (429)', last);
  await bf.close();
} catch (e) {
  ok(false, 'the browser test ran to its end', e.stack || e);
} finally {
  await browser.close();
}
if (!process.env.AB_TAP_START) console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
