// cards.mjs - the Teams channel's Adaptive Cards as people see them: each
// card the daemon posted is parsed and rendered by the Adaptive Cards
// JavaScript renderer (npm adaptivecards) in Debian's Chromium, once as the
// renderer comes (no Markdown) and once with a Markdown processor installed
// as Teams desktop has one; its visible text is checked and screenshots
// kept.
//
// Environment (tests/integration/teams_cards.sh sets it):
//   AB_CARDS     a JSON file: [ { "name": ..., "body": <the posted JSON>,
//                "want": [texts that must show exactly], "time": the
//                occurred_at as an en-US reader in Europe/Berlin sees it } ]
//   AB_SHOTS     where the screenshots go (the test's artifacts)
//   CHROMIUM     the browser (default /usr/bin/chromium)
// Prints TAP numbered from AB_TAP_START + 1 (the caller's plan counts them).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const renderer = require.resolve('adaptivecards/dist/adaptivecards.min.js');
const cards = JSON.parse(readFileSync(process.env.AB_CARDS, 'utf8'));
const shots = process.env.AB_SHOTS;
let n = Number(process.env.AB_TAP_START || '0');

function ok(cond, name, detail) {
  n++;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${name}`);
  if (!cond && detail !== undefined) console.log(`#   ${String(detail).replace(/\n/g, '\n#   ')}`);
}

// Runs in the page: parse, validate and render one card into #host; what
// the reader sees comes back.
function renderCard([content, markdown]) {
  const AC = window.AdaptiveCards;
  // Teams desktop runs TextBlock and Fact text through Markdown: so does
  // this page when markdown is set (bold, italics, links, backslash
  // escapes; HTML escaped first, as markdown-it does).  Without it the
  // renderer shows such text as it is, as some Teams clients do.
  AC.AdaptiveCard.onProcessMarkdown = !markdown ? undefined : (text, result) => {
    const esc = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    result.outputHtml = esc
      .replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>')
      .replace(/\[([^\]]+)\]\(([^)]+)\)/g, '<a href="$2">$1</a>')
      .replace(/(^|[^\\])_(.+?)_/g, '$1<em>$2</em>')
      .replace(/\\([\\`*_{}[\]()#+\-.!])/g, '$1');
    result.didProcess = true;
  };
  const card = new AC.AdaptiveCard();
  card.hostConfig = new AC.HostConfig({ fontFamily: 'DejaVu Sans, sans-serif' });
  const errors = [];
  const ctx = new AC.SerializationContext();
  card.parse(content, ctx);
  for (let i = 0; i < ctx.eventCount; i++) errors.push(ctx.getEventAt(i).message);
  for (const e of card.validateProperties().validationEvents) errors.push(e.message);
  const el = card.render();
  const host = document.getElementById('host');
  host.replaceChildren(el);
  return {
    errors,
    text: el.innerText,
    strong: el.querySelectorAll('.ac-textRun strong, .ac-richTextBlock strong').length,
    links: [...el.querySelectorAll('a')].map((a) => a.getAttribute('href')),
  };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
try {
  const ctx = await browser.newContext({ viewport: { width: 720, height: 900 },
    locale: 'en-US', timezoneId: 'Europe/Berlin' });
  const page = await ctx.newPage();
  await page.setContent('<!doctype html><html><body style="margin:0;background:#f5f5f5">'
    + '<div id="host" style="width:640px;padding:12px;background:#fff"></div></body></html>');
  await page.addScriptTag({ path: renderer });
  for (const c of cards) {
    const content = c.body.attachments[0].content;
    let r;
    for (const markdown of [false, true]) {
      const how = markdown ? 'with Markdown' : 'without Markdown';
      r = await page.evaluate(renderCard, [content, markdown]);
      await page.locator('#host').screenshot({
        path: `${shots}/teams-${c.name}${markdown ? '' : '-plain-renderer'}.png` });
      if (!markdown) {
        ok(r.errors.length === 0, `${c.name}: the adaptivecards parser accepts the card`,
          r.errors.join('; '));
      }
      const missing = (c.want || []).filter((w) => !r.text.includes(w));
      ok(missing.length === 0, `${c.name}, ${how}: the text from outside shows exactly as sent`,
        `missing: ${JSON.stringify(missing)}\nshown: ${r.text}`);
      const stray = r.text.match(/\\[\\`*_{}[\]()#+\-.!]/g) || [];
      const sent = (c.want || []).join(' ').match(/\\[\\`*_{}[\]()#+\-.!]/g) || [];
      ok(stray.length === sent.length, `${c.name}, ${how}: no stray Markdown escapes`,
        `${JSON.stringify(stray)} in: ${r.text}`);
    }
    ok(r.strong === 0 && r.links.length === 0,
      `${c.name}: Markdown from outside makes no bold text and no link`,
      `strong ${r.strong}, links ${JSON.stringify(r.links)}`);
    if (c.time) {
      ok(!/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(r.text) && !/\{\{(DATE|TIME)/.test(r.text)
        && r.text.includes(c.time),
        `${c.name}: the time shows in the reader's zone ("${c.time}"), not as a timestamp`,
        r.text);
    }
  }
} finally {
  await browser.close();
}
