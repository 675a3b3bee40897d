// A stock y-websocket WebsocketProvider (npm y-websocket, unchanged) on a Constituent document.
//
//   node websocket_provider.mjs '{"url": "ws://127.0.0.1:PORT/yjs", "document": "slug",
//                                 "token": "…" | null, "write": "text" | null,
//                                 "waitFor": "text" | null, "seconds": 30}'
//
// Prints one JSON line per event: {"event": "synced"|"wrote"|"saw"|"final"|"timeout", "xml": …}.
// "write" is inserted at the start of the document's first text; "final" also lists the
// permission-denied reasons the server sent (y-websocket logs them with console.warn).
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'

const options = JSON.parse(process.argv[2])
const denied = []
const warn = console.warn
console.warn = (...args) => { denied.push(args.join(' ')); warn(...args) }
const say = (event, extra = {}) => process.stdout.write(JSON.stringify({ event, ...extra }) + '\n')

const doc = new Y.Doc()
const body = doc.getXmlFragment('body')
const provider = new WebsocketProvider(options.url, options.document, doc, {
  WebSocketPolyfill: WebSocket,
  params: options.token ? { token: options.token } : {},
  disableBc: true
})

function firstText (node) {
  for (const child of node.toArray()) {
    if (child instanceof Y.XmlText) {
      if (child.length > 0) return child
    } else if (child instanceof Y.XmlElement || child instanceof Y.XmlFragment) {
      const found = firstText(child)
      if (found) return found
    }
  }
  return null
}

const finish = (event) => {
  say(event, { xml: body.toString(), denied })
  provider.destroy()
  setTimeout(() => process.exit(event === 'final' ? 0 : 2), 50)
}
const deadline = setTimeout(() => finish('timeout'), (options.seconds || 30) * 1000)

let started = false
provider.on('sync', (synced) => {
  if (!synced || started) return
  started = true
  say('synced', { xml: body.toString() })
  if (options.write) {
    const text = firstText(body)
    text.insert(0, options.write)
    say('wrote')
  }
  const check = () => {
    if (!options.waitFor || body.toString().includes(options.waitFor)) {
      body.unobserveDeep(check)
      if (options.waitFor) say('saw', { xml: body.toString() })
      setTimeout(() => { clearTimeout(deadline); finish('final') }, 1000)
    }
  }
  body.observeDeep(check)
  check()
})
