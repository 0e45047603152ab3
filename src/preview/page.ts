/**
 * The local Slack preview's page: a static shell, its stylesheet and its script. The script polls
 * `/preview/view` (answered 204 while nothing changed) and sends presses to `/preview/press`,
 * which signs them and posts them to `/slack/interactions` exactly as Slack would.
 * Served with a strict Content-Security-Policy: no inline script or style.
 *
 * What is this browser's own (kept in sessionStorage, for the tab's session): the person chosen to
 * press as, kept from one conversation to the next and across reloads, and how many messages of
 * each conversation were shown, from which the sidebar's unread badges are worked out; the
 * conversation on screen is read.
 */

/** How often the page asks whether anything changed. */
export const PREVIEW_POLL_MS = 1_000;

export const PREVIEW_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Escalator · Slack preview (dry run)</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/preview/app.css">
<script src="/preview/app.js" defer></script>
</head>
<body>
<header class="topbar">
  <span class="workspace">Escalator · Slack preview</span>
  <span class="dry-run">dry run: nothing is sent to Slack</span>
  <label class="acting-as">Press buttons as <select id="acting-as"></select></label>
</header>
<div class="layout">
  <nav id="sidebar" class="sidebar"></nav>
  <main id="main" class="main"><div class="empty">Loading…</div></main>
</div>
<div id="toast" class="toast" hidden></div>
</body>
</html>
`;

export const PREVIEW_CSS = `
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.46668 -apple-system, "Segoe UI", Lato, Helvetica, Arial, sans-serif; color: #1d1c1d; }
.topbar { display: flex; gap: 16px; align-items: center; background: #3f0e40; color: #fff; padding: 8px 16px; }
.workspace { font-weight: 700; }
.dry-run { background: #ecb22e; color: #1d1c1d; border-radius: 4px; padding: 0 6px; font-size: 13px; }
.acting-as { margin-left: auto; font-size: 13px; }
.acting-as select { margin-left: 6px; }
.layout { display: flex; min-height: calc(100vh - 42px); }
.sidebar { width: 240px; background: #4a154b; color: #cfc3cf; padding: 12px 0; flex: none; }
.sidebar-title { padding: 8px 16px 4px; font-size: 13px; opacity: 0.8; }
.conversation { display: block; padding: 3px 16px 3px 26px; color: #cfc3cf; text-decoration: none; }
.conversation.current { background: #1164a3; color: #fff; }
.conversation.unread { color: #fff; font-weight: 700; }
.conversation .count { float: right; font-size: 12px; background: #e01e5a; color: #fff; border-radius: 9px;
  padding: 0 6px; font-weight: 700; }
.main { flex: 1; padding: 0 0 24px; min-width: 0; }
.conversation-title { font-weight: 900; font-size: 18px; padding: 12px 20px; border-bottom: 1px solid #ddd; }
.channel-id { font-weight: 400; font-size: 13px; color: #616061; }
.message { display: flex; gap: 8px; padding: 8px 20px; }
.message:hover { background: #f8f8f8; }
.message.ephemeral { background: #f4f8fb; }
.avatar { width: 36px; height: 36px; border-radius: 4px; background: #e01e5a; color: #fff; font-weight: 700;
  display: flex; align-items: center; justify-content: center; flex: none; }
.body { min-width: 0; flex: 1; max-width: 720px; }
.meta { font-size: 13px; color: #616061; }
.author { font-weight: 900; color: #1d1c1d; font-size: 15px; }
.app { background: #e8e8e8; border-radius: 2px; padding: 0 3px; font-size: 10px; font-weight: 700; }
.edited, .ephemeral-note { font-size: 12px; color: #616061; }
.block { margin: 4px 0; word-wrap: break-word; }
.block.header { font-size: 18px; font-weight: 900; }
.fields { display: grid; grid-template-columns: 1fr 1fr; gap: 8px 16px; margin-top: 4px; }
.context { font-size: 12px; color: #616061; }
.actions { display: flex; gap: 8px; flex-wrap: wrap; }
.button { font: inherit; font-size: 14px; font-weight: 700; padding: 2px 12px; min-height: 32px; border-radius: 4px;
  border: 1px solid #bbb; background: #fff; cursor: pointer; }
.button.primary { background: #007a5a; color: #fff; border-color: #007a5a; }
.button.danger { background: #e01e5a; color: #fff; border-color: #e01e5a; }
.button:disabled { opacity: 0.5; cursor: wait; }
code { font-size: 12px; color: #e01e5a; background: #f6f6f6; border: 1px solid #ddd; border-radius: 3px; padding: 0 3px; }
.mention { background: #e8f5fa; color: #1264a3; border-radius: 3px; padding: 0 2px; }
.channel { color: #1264a3; }
a { color: #1264a3; }
.thread { border-left: 3px solid #ddd; margin: 6px 0 0; padding-left: 8px; }
.thread .message { padding: 6px 0; }
.thread-count { font-size: 13px; font-weight: 700; color: #1264a3; }
.empty { padding: 20px; color: #616061; }
.toast { position: fixed; bottom: 16px; right: 16px; background: #1d1c1d; color: #fff; padding: 8px 12px; border-radius: 6px; }
`;

export const PREVIEW_JS = `'use strict';
(function () {
  var current = decodeURIComponent(location.hash.slice(1)) || '';
  var etag = '';
  var PERSON_KEY = 'escalator-preview.person';
  var READ_KEY = 'escalator-preview.read';
  function remembered(key, fallback) {
    try { return JSON.parse(sessionStorage.getItem(key)) || fallback; } catch (e) { return fallback; }
  }
  function remember(key, value) {
    try { sessionStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* storage off: kept for this page only */ }
  }
  var chosenPerson = remembered(PERSON_KEY, '');
  /** Messages shown so far, by conversation: the rest are unread. */
  var read = remembered(READ_KEY, {});
  var sidebar = document.getElementById('sidebar');
  var main = document.getElementById('main');
  var actingAs = document.getElementById('acting-as');
  var toast = document.getElementById('toast');

  function say(text) {
    toast.textContent = text;
    toast.hidden = false;
    clearTimeout(say.timer);
    say.timer = setTimeout(function () { toast.hidden = true; }, 4000);
  }

  function fillPeople(people, names) {
    var keep = chosenPerson && people.indexOf(chosenPerson) >= 0 ? chosenPerson : people[0] || '';
    actingAs.textContent = '';
    people.forEach(function (id) {
      var option = document.createElement('option');
      option.value = id;
      option.textContent = '@' + ((names && names[id]) || id);
      actingAs.appendChild(option);
    });
    actingAs.value = keep;
  }

  /** The conversation on screen is read; every other one shows a badge with what came since it was. */
  function showUnread() {
    sidebar.querySelectorAll('a.conversation').forEach(function (link) {
      var id = link.getAttribute('data-conversation');
      var count = Number(link.getAttribute('data-messages')) || 0;
      if (id === current || (read[id] || 0) > count) read[id] = count;
      var unread = count - (read[id] || 0);
      var badge = link.querySelector('.count');
      if (unread > 0) {
        if (!badge) {
          badge = document.createElement('span');
          badge.className = 'count';
          link.appendChild(document.createTextNode(' '));
          link.appendChild(badge);
        }
        badge.textContent = String(unread);
        link.classList.add('unread');
      } else {
        if (badge) badge.remove();
        link.classList.remove('unread');
      }
    });
    remember(READ_KEY, read);
  }

  function refresh(force) {
    var url = '/preview/view?conversation=' + encodeURIComponent(current) + '&since=' + (force ? '' : encodeURIComponent(etag));
    return fetch(url, { cache: 'no-store' }).then(function (response) {
      if (response.status === 204) return;
      if (!response.ok) { say('The preview answered ' + response.status); return; }
      return response.json().then(function (view) {
        etag = view.etag;
        current = view.conversation || '';
        sidebar.innerHTML = view.sidebarHtml;
        main.innerHTML = view.mainHtml;
        showUnread();
        fillPeople(view.people, view.peopleNames);
        document.body.setAttribute('data-etag', etag);
      });
    }).catch(function () { say('Escalator does not answer: is npm start still running?'); });
  }

  actingAs.addEventListener('change', function () {
    chosenPerson = actingAs.value;
    remember(PERSON_KEY, chosenPerson);
  });
  window.addEventListener('hashchange', function () {
    current = decodeURIComponent(location.hash.slice(1));
    refresh(true);
  });

  main.addEventListener('click', function (event) {
    var button = event.target.closest('button[data-action-id]');
    if (!button) return;
    var message = button.closest('.message');
    button.disabled = true;
    fetch('/preview/press', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        channel: message.getAttribute('data-channel'),
        messageTs: message.getAttribute('data-ts'),
        actionId: button.getAttribute('data-action-id'),
        blockId: button.getAttribute('data-block-id'),
        value: button.getAttribute('data-value'),
        label: button.textContent,
        userId: actingAs.value,
      }),
    }).then(function (response) {
      return response.json().then(function (answer) {
        if (!response.ok || answer.status !== 200) {
          say('Slack interaction answered ' + (answer.status || response.status) + ': ' + (answer.error || ''));
        } else {
          say(button.textContent + ' pressed as ' + actingAs.options[actingAs.selectedIndex].textContent);
        }
      });
    }).catch(function (error) { say(String(error)); })
      .then(function () { button.disabled = false; return refresh(true); });
  });

  refresh(true);
  setInterval(refresh, ${PREVIEW_POLL_MS});
})();
`;
