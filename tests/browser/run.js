// Browser and accessibility tests for Redress.
// Drives Debian's chromium with playwright-core through the agent workspace (keyboard only)
// and the public portal (in Spanish), injects axe-core into every page visited and fails on
// any WCAG 2.1 A/AA violation. Writes screenshots to SCREENSHOT_DIR when set.
// Usage: BASE_URL=http://127.0.0.1:PORT ADMIN_TOKEN=rdr_... AGENT_USER=... AGENT_PASSWORD=... node run.js
'use strict';
const { chromium } = require('playwright-core');
const path = require('path');
const assert = require('assert');

const base = process.env.BASE_URL;
const token = process.env.ADMIN_TOKEN;
const agentUser = process.env.AGENT_USER;
const agentPassword = process.env.AGENT_PASSWORD;
const shots = process.env.SCREENSHOT_DIR;
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

let violations = 0;
const audited = [];

async function api(method, p, body) {
  const r = await fetch(base + p, {
    method,
    headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function axe(page, label) {
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  const r = await page.evaluate((t) => window.axe.run(document, { runOnly: { type: 'tag', values: t } }), tags);
  for (const v of r.violations) {
    console.log(`VIOLATION ${label}: ${v.id} (${v.impact}) x${v.nodes.length}: ${v.help}`);
    for (const n of v.nodes.slice(0, 3)) console.log(`   ${n.target.join(' ')}: ${n.failureSummary}`);
  }
  violations += r.violations.length;
  audited.push(label);
  console.log(`axe ${label}: ${r.passes.length} rules passed, ${r.violations.length} violated`);
}

async function shot(page, name) {
  if (!shots) return;
  await page.screenshot({ path: path.join(shots, name), fullPage: true });
}

// Presses Tab until the element matching `selector` has the focus.
async function tabTo(page, selector, max = 80) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((s) => document.activeElement && document.activeElement.matches(s), selector)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`could not reach ${selector} with Tab`);
}

async function typeInto(page, selector, text) {
  await tabTo(page, selector);
  await page.keyboard.type(text);
}

async function chooseByKeyboard(page, selector, label, value) {
  await tabTo(page, selector);
  await page.keyboard.type(label);
  const chosen = await page.$eval(selector, (el) => el.value);
  assert.strictEqual(chosen, value, `typing "${label}" in ${selector} chose ${chosen}`);
}

// Fails when the page scrolls sideways (a phone must never need to).
async function noSidewaysScroll(page, label) {
  const [scroll, width] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(scroll <= width, `${label} is ${scroll}px wide in a ${width}px window`);
}

// The interface's English messages that differ in Spanish, for spotting untranslated text.
const fs = require('fs');
function messages(file) {
  const out = new Map();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = line.match(/^([a-z][a-z0-9_-]*) = (.+)$/);
    if (m) out.set(m[1], m[2].trim());
  }
  return out;
}
const locales = path.join(__dirname, '..', '..', 'crates', 'web', 'locales');
const english = messages(path.join(locales, 'en-US', 'main.ftl'));
const spanish = messages(path.join(locales, 'es-US', 'main.ftl'));
const englishOnly = [...english.entries()]
  .filter(([k, v]) => spanish.has(k) && spanish.get(k) !== v && !v.includes('{') && v.length >= 12)
  .map(([, v]) => v);

// Fails when a Spanish page shows a message of the interface in English.
async function noEnglish(page, label) {
  // Text marked as English (lang="en", as WCAG 3.1.2 asks of passages in another language,
  // such as legal citations quoted as written) is not an untranslated message.
  const text = await page.evaluate(() => {
    const copy = document.body.cloneNode(true);
    copy.querySelectorAll('[lang="en"]').forEach((e) => e.remove());
    return copy.innerText || copy.textContent;
  });
  const found = englishOnly.filter((m) => text.includes(m));
  assert.deepStrictEqual(found, [], `${label} shows English messages`);
}

// An authenticator app's code (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits) for a Base32 secret.
const crypto = require('crypto');
function totp(secret, step) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, value = 0;
  const bytes = [];
  for (const ch of secret.replace(/[\s=]/g, '').toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(ch);
    bits += 5;
    if (bits >= 8) { bytes.push((value >>> (bits - 8)) & 255); bits -= 8; }
  }
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const h = crypto.createHmac('sha1', Buffer.from(bytes)).update(msg).digest();
  const o = h[h.length - 1] & 15;
  const n = ((h[o] & 127) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(n % 1000000).padStart(6, '0');
}

async function expectLang(page, lang) {
  const l = await page.getAttribute('html', 'lang');
  assert.strictEqual(l, lang, `page ${page.url()} has lang ${l}`);
}

(async () => {
  // Reference data and the repeat caller's earlier case.
  const company = await api('POST', '/api/v1/companies', { name: 'Consolidated Edison', industry: 'Energy', customer_count: 3500000 });
  await api('POST', '/api/v1/categories', { path: ['Energy', 'Electric', 'Billing'] });
  const energy = (await api('GET', '/api/v1/categories')).find((x) => x.path === 'Energy');
  await api('PATCH', `/api/v1/categories/${energy.id}`, { name_es: 'Energía (luz y gas)' });
  const earlier = await api('POST', '/api/v1/cases', {
    kind: 'complaint', channel: 'phone', description: 'Estimated bill for September',
    consumer: { name: 'Ana Díaz', email: 'ana@example.org', phone: '518-555-0100', preferred_language: 'es' },
    company_id: company.id,
  });

  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    // ---- An agent, keyboard only, in English ----
    const agent = await browser.newContext({ locale: 'en-US', bypassCSP: true, viewport: { width: 1280, height: 900 } });
    const page = await agent.newPage();
    await page.goto(base + '/login');
    await expectLang(page, 'en');
    await axe(page, 'en /login');
    await typeInto(page, '#username', agentUser);
    await page.keyboard.press('Tab');
    await page.keyboard.type(agentPassword);
    await Promise.all([page.waitForURL(base + '/'), page.keyboard.press('Enter')]);
    await axe(page, 'en / (my work)');

    // Shortcut "n": take a new contact.
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    await Promise.all([page.waitForURL(base + '/cases/new'), page.keyboard.press('n')]);
    await axe(page, 'en /cases/new');
    await typeInto(page, '#consumer-phone', '518-555-0100');
    // The repeat caller is recognized, with their open case.
    await page.waitForSelector('#matches-list li:has-text("Ana Díaz")', { timeout: 10000 });
    await page.waitForSelector(`#matches-list a:has-text("${earlier.reference}")`, { timeout: 10000 });
    // A call about that case could go straight onto it, without a new case.
    await page.waitForSelector(`#matches-list button[name=add_to][value="${earlier.reference}"]`);
    // Only the agent decides that the caller is the person on file: choosing her files the case
    // on her record (typing her phone alone would make a new record).
    await tabTo(page, '#matches-list button.use-person');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#consumer-chosen:not([hidden]):has-text("Ana Díaz")');
    await chooseByKeyboard(page, '#company_id', 'Consolidated', String(company.id));
    await typeInto(page, '#amount_in_dispute', '84.10');
    await typeInto(page, '#description', 'Billed twice for October after the meter was replaced.');
    await axe(page, 'en /cases/new (with matches)');
    await shot(page, 'intake.png');
    await tabTo(page, 'form#intake-form button[type=submit]');
    await Promise.all([page.waitForURL(/\/cases\/NYC-\d{4}-\d{6}$/), page.keyboard.press('Enter')]);
    const reference = page.url().split('/cases/')[1];
    const created = await api('GET', '/api/v1/cases/' + reference);
    assert.strictEqual(created.consumer_id, earlier.consumer_id, 'the repeat caller is the same consumer');
    await axe(page, 'en /cases/REF');

    // Shortcut "c": write a note.
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    await page.keyboard.press('c');
    await page.keyboard.type('Called Con Edison billing; they will review the meter exchange.');
    await tabTo(page, 'form[action$="/note"] button[type=submit]');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    await page.waitForSelector('.timeline li:has-text("Called Con Edison billing")');

    // Attach the consumer's bill (a file chooser cannot be typed into; the rest is keyboard).
    await page.setInputFiles('#file', { name: 'october-bill.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\nxref\n0 1\n0000000000 65535 f \ntrailer << >>\nstartxref\n9\n%%EOF\n') });
    await typeInto(page, '#note', 'October bill, as sent by the consumer');
    await tabTo(page, 'form[action$="/attachments"] button[type=submit]');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    await page.waitForSelector('.files a:has-text("october-bill.pdf")');

    // Assign it to the call center, to the agent.
    await chooseByKeyboard(page, '#unit', 'Call', 'CALL');
    await tabTo(page, 'form[action$="/assign"] button[type=submit]');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    await page.waitForSelector('.timeline li:has-text("Assigned to")');
    await axe(page, 'en /cases/REF (after actions)');
    await shot(page, 'case-page.png');

    // Next steps from the lifecycle, by keyboard: open the step, then submit it.
    await page.waitForSelector('#hold.hold-active');
    const steps = await page.$$eval('#steps summary', (s) => s.map((x) => x.textContent.trim()));
    assert.ok(steps.includes('Refer to the company'), steps.join(', '));
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    await tabTo(page, '#step-open_investigation', 300);
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    await page.keyboard.type('STAFF-ONLY: consumer disputes the meter exchange date.');
    await tabTo(page, 'details[open] button[type=submit]');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    await page.waitForSelector('#stage:has-text("Investigating")');
    await page.waitForSelector('#hold:has-text("while this complaint is pending")');
    await axe(page, 'en /cases/REF (investigating)');
    // A step with a date: the initial decision, with a mailing date in the future refused.
    await page.click('summary:has-text("Issue the initial decision")');
    await page.fill('details[open] textarea', 'Refund the duplicate charge of $84.10.');
    await page.fill('details[open] input[type=date]', '2099-01-01');
    await Promise.all([page.waitForNavigation(), page.click('details[open] button[type=submit]')]);
    await page.waitForSelector('details[open] input[type=date][aria-invalid="true"]');
    await axe(page, 'en /cases/REF (step errors)');
    // Today in the office's time zone (the server refuses a mailing date after the office's today).
    const officeToday = new Date().toLocaleDateString('en-CA', { timeZone: 'America/New_York' });
    await page.fill('details[open] input[type=date]', officeToday);
    await Promise.all([page.waitForNavigation(), page.click('details[open] button[type=submit]')]);
    await page.waitForSelector('#stage:has-text("Initial decision mailed")');
    await page.waitForSelector('#clocks td:has-text("Window to request an informal hearing or review")');
    await axe(page, 'en /cases/REF (decision)');
    await shot(page, 'case-lifecycle.png');

    // Find it again from anywhere: "/" jumps to the search box.
    await page.goto(base + '/');
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    await page.keyboard.press('/');
    await page.keyboard.type(reference);
    await Promise.all([page.waitForURL(base + '/cases/' + reference), page.keyboard.press('Enter')]);

    // The same pages in Spanish.
    for (const p of ['/?lang=es', '/cases/new?lang=es', `/cases/${reference}?lang=es`, '/help?lang=es', '/search?q=518-555-0100&lang=es', '/cases?lang=es']) {
      await page.goto(base + p);
      await expectLang(page, 'es');
      await axe(page, 'es ' + p.replace(reference, 'REF'));
      await noEnglish(page, 'es ' + p.replace(reference, 'REF'));
      await noSidewaysScroll(page, 'es ' + p.replace(reference, 'REF'));
    }
    // The full list of cases, sorted by a column heading reached with the keyboard.
    await page.goto(base + '/cases?lang=en');
    await axe(page, 'en /cases');
    await tabTo(page, 'table.worklist thead a[href*="sort=consumer"]');
    await Promise.all([page.waitForURL(/sort=consumer/), page.keyboard.press('Enter')]);
    assert.strictEqual(await page.getAttribute('table.worklist th[aria-sort]', 'aria-sort'), 'ascending');
    await shot(page, 'cases.png');
    // The list kept under a name, by keyboard: the form opens, a name is missing, then given.
    await tabTo(page, 'details.save-search summary');
    await page.keyboard.press('Enter');
    await tabTo(page, 'details.save-search button[type=submit]');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    await page.waitForSelector('#save-problems');
    await axe(page, 'en /cases (save errors)');
    await typeInto(page, '#saved-name', 'By consumer');
    await tabTo(page, 'details.save-search button[type=submit]');
    await Promise.all([page.waitForURL(/sort=consumer/), page.keyboard.press('Enter')]);
    assert.ok(await page.isVisible('.saved-list a:has-text("By consumer")'), 'the saved search is listed');
    await axe(page, 'en /cases (saved search)');
    await page.goto(base + '/help?lang=en');
    await axe(page, 'en /help');
    // Bad input through the intake form: errors next to fields, linked from the summary.
    await page.goto(base + '/cases/new');
    await typeInto(page, '#consumer-email', 'not-an-email');
    await tabTo(page, 'form#intake-form button[type=submit]');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    await page.waitForSelector('#error-summary a[href="#consumer-email"]');
    await page.waitForSelector('#consumer-email[aria-invalid="true"]');
    await axe(page, 'en /cases/new (errors)');
    await agent.close();

    // ---- The company's representative: its case, without staff-only text ----
    const repPassword = 'company-rep-' + Date.now();
    await api('POST', '/api/v1/users', { username: 'rep', display_name: 'Con Edison rep', role: 'company', company_id: company.id, password: repPassword });
    const other = await api('POST', '/api/v1/companies', { name: 'National Grid', industry: 'Energy', customer_count: 1700000 });
    const elsewhere = await api('POST', '/api/v1/cases', {
      kind: 'complaint', channel: 'phone', description: 'Gas bill', company_id: other.id,
      consumer_id: earlier.consumer_id, consumer: { account_number: 'NG-9999' },
    });
    await api('POST', `/api/v1/cases/${reference}/links`, { target: elsewhere.reference, kind: 'related' });
    const rep = await browser.newContext({ locale: 'en-US', bypassCSP: true, viewport: { width: 1280, height: 900 } });
    const r = await rep.newPage();
    await r.goto(base + '/login');
    await typeInto(r, '#username', 'rep');
    await r.keyboard.press('Tab');
    await r.keyboard.type(repPassword);
    await Promise.all([r.waitForURL(base + '/'), r.keyboard.press('Enter')]);
    // Its home lists the company's open cases, the answer due first; the keyboard opens one.
    await r.waitForSelector('#mine:has-text("Your company")');
    await axe(r, 'en / (company)');
    await tabTo(r, `table.worklist a[href="/cases/${reference}"]`);
    await Promise.all([r.waitForURL(`${base}/cases/${reference}`), r.keyboard.press('Enter')]);
    await r.waitForSelector('#stage');
    const repHtml = await r.content();
    for (const secret of ['STAFF-ONLY', 'NG-9999', elsewhere.reference]) {
      assert.ok(!repHtml.includes(secret), `the company's page shows ${secret}`);
    }
    await axe(r, 'en /cases/REF (company)');
    const repJson = await r.evaluate(async (ref) => (await fetch('/api/v1/cases/' + ref, { credentials: 'same-origin' })).text(), reference);
    assert.ok(repJson.includes(reference), 'the company reads its case: ' + repJson.slice(0, 200));
    for (const secret of ['STAFF-ONLY', 'NG-9999', elsewhere.reference]) {
      assert.ok(!repJson.includes(secret), `the company's JSON shows ${secret}`);
    }
    await rep.close();

    // ---- A supervisor's day: the team, the cases nobody has, one given to Sam, by keyboard ----
    const supPassword = 'supervisor-' + Date.now();
    await api('POST', '/api/v1/users', { username: 'sue', display_name: 'Sue Supervisor', role: 'supervisor', unit: 'CALL', password: supPassword });
    const supervisor = await browser.newContext({ locale: 'en-US', bypassCSP: true, viewport: { width: 1280, height: 900 } });
    const sp = await supervisor.newPage();
    await sp.goto(base + '/login');
    await typeInto(sp, '#username', 'sue');
    await sp.keyboard.press('Tab');
    await sp.keyboard.type(supPassword);
    await Promise.all([sp.waitForURL(base + '/'), sp.keyboard.press('Enter')]);
    await sp.goto(base + '/supervisor');
    await sp.waitForSelector('#team-title');
    assert.ok((await sp.textContent('#team-title ~ .table-wrap')).includes('Sam Senior'), 'the team lists Sam');
    await tabTo(sp, `section[aria-labelledby="unassigned-title"] a[href="/cases/${elsewhere.reference}"]`, 200);
    await Promise.all([sp.waitForURL(`${base}/cases/${elsewhere.reference}`), sp.keyboard.press('Enter')]);
    await chooseByKeyboard(sp, 'form[action$="/assign"] select[name=assignee]', 'Sam', agentUser);
    await tabTo(sp, 'form[action$="/assign"] button[type=submit]');
    await Promise.all([sp.waitForNavigation(), sp.keyboard.press('Enter')]);
    const assigned = await api('GET', '/api/v1/cases/' + elsewhere.reference);
    assert.strictEqual(assigned.assignee, agentUser, 'the supervisor gave the case to Sam');
    await axe(sp, 'en /cases/REF (supervisor, after assigning)');
    await supervisor.close();

    // ---- Supervision, administration and the account page, as the administrator ----
    const admin = await browser.newContext({ locale: 'en-US', bypassCSP: true, viewport: { width: 1280, height: 900 } });
    const a = await admin.newPage();
    await a.goto(base + '/login');
    await typeInto(a, '#username', process.env.ADMIN_USER);
    await a.keyboard.press('Tab');
    await a.keyboard.type(process.env.ADMIN_PASSWORD);
    await Promise.all([a.waitForURL(base + '/'), a.keyboard.press('Enter')]);
    for (const lang of ['en', 'es']) {
      for (const p of ['/supervisor', '/supervisor/cases?unit=CALL', '/admin', '/admin/lifecycles', '/account', '/admin/users/1', '/admin/companies?edit=1', '/admin/categories?edit=1', '/cases?overdue=1', '/mail', '/mail?all=1', '/mail/1', '/mail/2', '/letters', '/letters/batches/1', '/reports', '/reports/workload', '/reports/backlog', '/reports/speed', '/reports/companies', '/reports/trends', '/reports/hotline', '/reports/root_causes', '/reports/workload?compare_from=2026-01-01&compare_to=2026-01-31']) {
        const url = `${p}${p.includes('?') ? '&' : '?'}lang=${lang}`;
        await a.goto(base + url);
        await expectLang(a, lang);
        await axe(a, `${lang} ${p}`);
        if (lang === 'es') await noEnglish(a, `${lang} ${p}`);
        await noSidewaysScroll(a, `${lang} ${p}`);
      }
    }
    await a.goto(base + '/letters/batches/1?lang=en');
    await shot(a, 'letter-batch.png');
    await a.goto(base + '/supervisor?lang=en');
    await shot(a, 'supervision.png');
    await a.goto(base + '/reports/workload?lang=en');
    await shot(a, 'report-workload.png');
    // A report emailed every week, by keyboard: a wrong address is named, then it is kept.
    await a.goto(base + '/reports?lang=en');
    await typeInto(a, '#recipients', 'director@example.gov\nnot-an-address');
    await tabTo(a, 'form[action="/reports/schedules"] button[type=submit]');
    await Promise.all([a.waitForNavigation(), a.keyboard.press('Enter')]);
    await a.waitForSelector('#error-summary a[href="#recipients"]');
    await axe(a, 'en /reports (schedule errors)');
    await a.fill('#recipients', 'director@example.gov');
    await tabTo(a, 'form[action="/reports/schedules"] button[type=submit]');
    await Promise.all([a.waitForNavigation(), a.keyboard.press('Enter')]);
    assert.ok((await a.textContent('#schedules table')).includes('director@example.gov'), 'the schedule is listed');
    await axe(a, 'en /reports (scheduled)');
    await a.goto(base + '/reports?lang=es');
    await axe(a, 'es /reports (scheduled)');
    await noEnglish(a, 'es /reports (scheduled)');
    // The administrator adds a company and names a category in Spanish, by keyboard.
    await a.goto(base + '/admin/companies?lang=en');
    await typeInto(a, '#name', 'Suez Water New York');
    await typeInto(a, '#industry', 'Water');
    await typeInto(a, '#customer_count', '210,000');
    await tabTo(a, 'form[action="/admin/companies"] button[type=submit]');
    await Promise.all([a.waitForURL(/\/admin\/companies\?done=1$/), a.keyboard.press('Enter')]);
    const companies = await api('GET', '/api/v1/companies');
    assert.ok(companies.some((x) => x.name === 'Suez Water New York' && x.customer_count === 210000), 'the company was added');
    await admin.close();

    // ---- Two-step sign-in, set up and used with the keyboard: on, log out, in with a code ----
    const tessPassword = 'two-step-' + Date.now();
    await api('POST', '/api/v1/users', { username: 'tess', display_name: 'Tess Two-Step', role: 'agent', password: tessPassword });
    const twoStep = await browser.newContext({ locale: 'en-US', bypassCSP: true, viewport: { width: 1280, height: 900 } });
    const ts = await twoStep.newPage();
    await ts.goto(base + '/login');
    await typeInto(ts, '#username', 'tess');
    await ts.keyboard.press('Tab');
    await ts.keyboard.type(tessPassword);
    await Promise.all([ts.waitForURL(base + '/'), ts.keyboard.press('Enter')]);
    await ts.goto(base + '/account');
    assert.ok(!(await ts.title()).includes('secret'), 'the title holds no secret: ' + await ts.title());
    const secret = await ts.getAttribute('input[name=secret]', 'value');
    const step = () => Math.floor(Date.now() / 1000 / 30);
    await typeInto(ts, '#totp_code', totp(secret, step()));
    await tabTo(ts, 'form[action="/account/totp/on"] button[type=submit]');
    await Promise.all([ts.waitForNavigation(), ts.keyboard.press('Enter')]);
    await ts.waitForSelector('form[action="/account/totp/off"]');
    await axe(ts, 'en /account (two-step on)');
    await tabTo(ts, 'form[action="/logout"] button');
    await Promise.all([ts.waitForNavigation(), ts.keyboard.press('Enter')]);
    await ts.goto(base + '/login');
    await typeInto(ts, '#username', 'tess');
    await ts.keyboard.press('Tab');
    await ts.keyboard.type(tessPassword);
    // The next step's code: the one used to turn it on cannot be used again.
    await typeInto(ts, '#code', totp(secret, step() + 1));
    await Promise.all([ts.waitForURL(base + '/'), ts.keyboard.press('Enter')]);
    assert.ok((await ts.textContent('header')).includes('Tess Two-Step'), 'signed in with the code');
    await twoStep.close();

    // ---- A consumer on a 390 px phone, in Spanish (from Accept-Language) ----
    const consumer = await browser.newContext({ locale: 'es-US', bypassCSP: true, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const c = await consumer.newPage();
    await c.goto(base + '/portal');
    await expectLang(c, 'es');
    await axe(c, 'es /portal');
    await noSidewaysScroll(c, 'es /portal');
    await noEnglish(c, 'es /portal');
    await c.goto(base + '/portal/complaint');
    await axe(c, 'es /portal/complaint');
    await noSidewaysScroll(c, 'es /portal/complaint');
    await noEnglish(c, 'es /portal/complaint');
    assert.ok((await c.textContent('#contact-needed')).includes('teléfono o un correo'), 'the contact rule is said up front');
    // Sending it empty shows the errors in Spanish.
    await tabTo(c, 'form button[type=submit]');
    await Promise.all([c.waitForNavigation(), c.keyboard.press('Enter')]);
    await c.waitForSelector('#error-summary:has-text("Hay un problema")');
    await axe(c, 'es /portal/complaint (errors)');
    await noSidewaysScroll(c, 'es /portal/complaint (errors)');
    await noEnglish(c, 'es /portal/complaint (errors)');
    await typeInto(c, '#consumer-name', 'Carmen Rodríguez');
    await typeInto(c, '#consumer-email', 'carmen@example.org');
    // Ana's phone number (a shared household line): Carmen still gets a record of her own.
    await typeInto(c, '#consumer-phone', '518-555-0100');
    // The company is typed (the suggestions come from the companies on file).
    await typeInto(c, '#company', 'Consolidated Edison');
    await chooseByKeyboard(c, '#category', 'Ener', 'Energy');
    await typeInto(c, '#description', 'Me cobraron dos veces la factura de octubre.');
    await tabTo(c, 'form button[type=submit]');
    await Promise.all([c.waitForURL(/\/portal\/status\/[0-9a-f]{48}\?new=1$/), c.keyboard.press('Enter')]);
    const confirmation = await c.textContent('.confirmation');
    const m = confirmation.match(/NYC-\d{4}-\d{6}/);
    assert.ok(m, 'the reference number is on screen: ' + confirmation);
    const portalRef = m[0];
    assert.ok(!confirmation.includes('Ana'), 'nothing of the person on file: ' + confirmation);
    const filed = await api('GET', '/api/v1/cases/' + portalRef);
    assert.notStrictEqual(filed.consumer_id, earlier.consumer_id, 'a phone number never makes someone else');
    assert.strictEqual(filed.consumer.name, 'Carmen Rodríguez');
    assert.strictEqual(filed.consumer.email, 'carmen@example.org');
    const ana = await api('GET', '/api/v1/consumers/' + earlier.consumer_id);
    assert.strictEqual(ana.name, 'Ana Díaz');
    assert.strictEqual(ana.email, 'ana@example.org');
    assert.strictEqual(filed.company.name, 'Consolidated Edison', 'the typed company was found');
    await axe(c, 'es /portal/status (filed)');
    await noSidewaysScroll(c, 'es /portal/status (filed)');
    await noEnglish(c, 'es /portal/status (filed)');
    await shot(c, 'portal-es.png');

    // Check status with the reference and email, then add information.
    await c.goto(base + '/portal/status');
    await typeInto(c, '#reference', portalRef);
    await typeInto(c, '#contact', 'carmen@example.org');
    await tabTo(c, 'form button[type=submit]');
    await Promise.all([c.waitForURL(/\/portal\/status\/[0-9a-f]{48}$/), c.keyboard.press('Enter')]);
    await typeInto(c, '#body', 'Mi número de cuenta es 4455-22.');
    await c.setInputFiles('#file', { name: 'recibo.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\nxref\n0 1\n0000000000 65535 f \ntrailer << >>\nstartxref\n9\n%%EOF\n') });
    await tabTo(c, 'form[action$="/add"] button[type=submit]');
    await Promise.all([c.waitForURL(/added=1$/), c.keyboard.press('Enter')]);
    await c.waitForSelector('.notice:has-text("Gracias")');
    await axe(c, 'es /portal/status (added)');
    await noSidewaysScroll(c, 'es /portal/status (added)');
    await noEnglish(c, 'es /portal/status (added)');
    const statusUrl = c.url().replace(/\?.*$/, '');
    for (const p of ['/portal?lang=en', '/portal/complaint?lang=en', '/portal/status?lang=en', statusUrl.replace(base, '') + '?lang=en']) {
      await c.goto(base + p);
      await expectLang(c, 'en');
      await axe(c, 'en ' + p.replace(/[0-9a-f]{48}/, 'TOKEN'));
      await noSidewaysScroll(c, 'en ' + p.replace(/[0-9a-f]{48}/, 'TOKEN'));
    }
    await consumer.close();

    // The agent sees the consumer's addition on the timeline.
    const timeline = await api('GET', `/api/v1/cases/${portalRef}/timeline`);
    assert.ok(timeline.some((e) => e.body === 'Mi número de cuenta es 4455-22.' && e.visibility === 'consumer'), 'the addition reached the case');
    assert.ok(timeline.some((e) => e.type === 'attachment' && e.body === 'recibo.pdf'), 'the document reached the case');
    const agent2 = await browser.newContext({ locale: 'en-US', bypassCSP: true });
    const p2 = await agent2.newPage();
    await p2.goto(base + '/login');
    await typeInto(p2, '#username', agentUser);
    await p2.keyboard.press('Tab');
    await p2.keyboard.type(agentPassword);
    await Promise.all([p2.waitForURL(base + '/'), p2.keyboard.press('Enter')]);
    await p2.goto(`${base}/cases/${portalRef}`);
    await p2.waitForSelector('.timeline li:has-text("Mi número de cuenta es 4455-22.")');
    await p2.waitForSelector('.files a:has-text("recibo.pdf")');
    // The two records that share a phone are offered as possibly one person; nobody merged them.
    await p2.waitForSelector('#duplicates:has-text("Ana Díaz")');
    await axe(p2, 'en /cases/REF (possible duplicate)');
    await agent2.close();
  } finally {
    await browser.close();
  }
  console.log(`${audited.length} pages checked with axe-core (WCAG 2.1 A/AA): ${violations} violations`);
  process.exitCode = violations ? 1 : 0;
})().catch((e) => {
  console.error(e);
  process.exitCode = 2;
});
