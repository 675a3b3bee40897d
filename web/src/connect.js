// The editor's live connection, opened while the page is still loading (issue 22).
//
// web/static/dist/connect.js (a tiny script of its own, run from the editor page's <head>, before
// the editor's bundle has even arrived) calls openEarly: the WebSocket to /yjs/<slug> opens with
// `?state=1`, for which the server sends the whole document (its cached answer to an empty sync
// step 1) as soon as it has joined the connection, while the page's HTML, styles and the
// editor's bundle are still being loaded and run. The text's round trip then overlaps that work
// instead of following it, and no message of ours has to wait for the page's busy main thread.
// The messages that arrive meanwhile are kept, in order; LiveProvider.connect (provider.js) takes
// the socket over with takeEarly and handles them as if they had just arrived, and main.js builds
// the editor in the task that brings the text when it has come already (whenEarlyText). Nothing
// else changes: the server decides the connection's rights at the handshake, as for any other
// connection, and a socket that closed before the editor took it is dropped (the provider then
// connects as usual). (A socket held by a worker was slower: the worker itself starts only when
// the main thread has time for it.)

export function liveUrl (slug, loc = window.location) {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:'
  return `${scheme}//${loc.host}/yjs/${encodeURIComponent(slug)}?events=1`
}

const KEY = '__constituentEarlySocket'
const TAKEN = 'taken'

/** Opens the connection for the document named by the script's data-slug. */
export function openEarly (script) {
  const slug = script && script.dataset ? script.dataset.slug : ''
  // Once only, and never after the editor has connected without it.
  if (!slug || typeof WebSocket === 'undefined' || window[KEY] !== undefined) return null
  const url = liveUrl(slug)
  let ws
  try {
    ws = new WebSocket(url + '&state=1')
  } catch (e) {
    return null
  }
  ws.binaryType = 'arraybuffer'
  // askedState: the server sends the whole document by itself (the provider asks for nothing).
  const early = { url, ws, messages: [], askedState: true, hasText: false, onText: null }
  ws.onmessage = (event) => {
    early.messages.push(event.data)
    if (isStep2(event.data)) {
      early.hasText = true
      if (early.onText) early.onText()
    }
  }
  ws.onclose = () => {
    if (window[KEY] === early) window[KEY] = TAKEN // the editor connects by itself
    if (early.onText) early.onText()
  }
  window[KEY] = early
  return early
}

// A y-protocols sync step 2 (message "sync" 0, step 2 = 1): the document's text.
function isStep2 (data) {
  if (!(data instanceof ArrayBuffer) || data.byteLength < 2) return false
  const head = new Uint8Array(data, 0, 2)
  return head[0] === 0 && head[1] === 1
}

/**
 * Calls `done` in the task that hands the early connection's text to the page, when the
 * connection had received it by the time this is called (the messages that wait for the main
 * thread are handled first): the editor is then built with its text and drawn once, not first
 * empty and then again. Otherwise right after those messages (the editor is built while the text
 * is still on its way, as before); at once when there is no early connection.
 */
export function whenEarlyText (done) {
  const early = typeof window === 'undefined' ? null : window[KEY]
  if (!early || early === TAKEN || early.hasText || early.ws.readyState > 1 || typeof MessageChannel !== 'function') {
    done()
    return
  }
  let called = false
  const once = () => {
    if (called) return
    called = true
    early.onText = null
    done()
  }
  early.onText = once
  // A message to ourselves is queued behind the worker's messages that are already waiting.
  const channel = new MessageChannel()
  channel.port1.onmessage = once
  channel.port2.postMessage(0)
}

/**
 * The early connection to `url`, if one is open or opening: {ws, messages, askedState}. The
 * caller takes it over (its handlers replace these); it is handed out once.
 */
export function takeEarly (url) {
  if (typeof window === 'undefined') return null
  const early = window[KEY]
  window[KEY] = TAKEN
  if (!early || early === TAKEN) return null
  early.onText = null
  if (early.url !== url || early.ws.readyState > 1) { // another document's, or closing/closed
    try { early.ws.close() } catch (e) { /* already closed */ }
    return null
  }
  return early
}
