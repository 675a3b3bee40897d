#!/usr/bin/env node
// A real Yjs client for Constituent's /collab protocol, driven by tests/test_yjs_interop.py.
//
//   node client.mjs --url http://127.0.0.1:PORT [--cookie "session=…"] --document SLUG
//
// It connects with socket.io-client (namespace /collab, websocket transport), joins the
// document, then speaks y-protocols sync exactly as a browser would: it sends sync step1,
// answers the server's step1 with step2, applies step2/update messages and sends every local
// Y.Doc change as a sync update (`y` with arguments (slug, binary)).
//
// Commands: one JSON object per line on stdin; one JSON result per line on stdout, in order.
// The first stdout line is {"ready": true, "role": …} (or {"ready": false, "error": …}).
// Every command may carry an "id", echoed in its result. Results are {"ok": true, …} or
// {"ok": false, "error": "…"}.
//
//   {"cmd":"wait_synced","timeout":20}            initial sync (server's step2) has arrived
//   {"cmd":"sync","timeout":20}                   round trip: send step1, wait for the step2 answer
//   {"cmd":"insert","path":[0,2,1],"index":0,"text":"…"}
//        path: element-child indexes from the body down to a text block; the text goes into
//        its first Y.XmlText child. index: a number, "end", or {"before": "substring"}.
//   {"cmd":"insert_element","path":[0],"index":3,"node":{"tag":"article","attrs":{…},
//        "children":[{"tag":"heading","children":[{"text":"…"}]}, …]}}
//        index counts element children of the parent at `path` ([] = the body).
//   {"cmd":"text","path":[…]}                    → {"text": …}
//   {"cmd":"state"}                               → {"state": base64(Y.encodeStateAsUpdate(doc))}
//   {"cmd":"xml"}                                 → {"xml": body.toString()}
//   {"cmd":"errors"}                              → {"errors": [every `error` event so far]}
//   {"cmd":"quit"}                                disconnect and exit
//
// Diagnostics go to stderr. The process exits by itself after --max-seconds (default 300).

import readline from 'node:readline'
import * as Y from 'yjs'
import * as syncProtocol from 'y-protocols/sync'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { io } from 'socket.io-client'

const MESSAGE_SYNC = 0
const MESSAGE_AWARENESS = 1
const REMOTE = Symbol('remote')

function parseArgs (argv) {
  const args = { url: null, cookie: null, document: null, maxSeconds: 300 }
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i]
    const value = argv[i + 1]
    if (key === '--url') args.url = value
    else if (key === '--cookie') args.cookie = value
    else if (key === '--document') args.document = value
    else if (key === '--max-seconds') args.maxSeconds = Number(value)
    else throw new Error(`unknown argument ${key}`)
    i++
  }
  if (!args.url || !args.document) throw new Error('usage: client.mjs --url URL [--cookie C] --document SLUG')
  return args
}

const args = parseArgs(process.argv.slice(2))
const log = (...parts) => console.error(`[yjs-client ${args.document}]`, ...parts)
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')

const watchdog = setTimeout(() => {
  log(`no quit after ${args.maxSeconds} s; exiting`)
  process.exit(3)
}, args.maxSeconds * 1000)
watchdog.unref()

const doc = new Y.Doc()
const body = doc.getXmlFragment('body')
doc.getMap('meta')

const errors = []
let joined = false
let step2Count = 0 // sync step2 messages received (answers to our step1)
const waiters = new Set() // functions re-checked whenever something arrives

function notify () {
  for (const check of [...waiters]) check()
}

function waitFor (predicate, timeoutSeconds, what) {
  return new Promise((resolve, reject) => {
    if (predicate()) return resolve()
    const timer = setTimeout(() => {
      waiters.delete(check)
      reject(new Error(`timed out after ${timeoutSeconds} s waiting for ${what}`))
    }, timeoutSeconds * 1000)
    function check () {
      if (predicate()) {
        clearTimeout(timer)
        waiters.delete(check)
        resolve()
      }
    }
    waiters.add(check)
  })
}

function toBytes (data) {
  if (data instanceof Uint8Array) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  throw new Error(`expected a binary payload, got ${typeof data}`)
}

const socket = io(args.url + '/collab', {
  transports: ['websocket'],
  extraHeaders: args.cookie ? { Cookie: args.cookie } : {},
  reconnection: false,
  timeout: 20000
})

function send (encoder) {
  // A fresh, exactly sized copy: what travels is the message and nothing around it.
  socket.emit('y', args.document, encoding.toUint8Array(encoder).slice())
}

function sendStep1 () {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MESSAGE_SYNC)
  syncProtocol.writeSyncStep1(encoder, doc)
  send(encoder)
}

socket.on('y', (slug, data) => {
  if (slug !== args.document) {
    log(`message for another document: ${slug}`)
    return
  }
  let payload
  try {
    payload = toBytes(data)
  } catch (error) {
    log(error.message)
    return
  }
  const decoder = decoding.createDecoder(payload)
  const messageType = decoding.readVarUint(decoder)
  if (messageType === MESSAGE_SYNC) {
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, MESSAGE_SYNC)
    const syncType = syncProtocol.readSyncMessage(decoder, encoder, doc, REMOTE, (error) => {
      log('could not apply a remote update:', error)
      errors.push({ document: args.document, code: 'client-apply-failed', message: String(error) })
    })
    // Step1 from the server (join or periodic resync): the reply is our step2.
    if (encoding.length(encoder) > 1) send(encoder)
    if (syncType === syncProtocol.messageYjsSyncStep2) step2Count++
  } else if (messageType === MESSAGE_AWARENESS) {
    // Presence is not used by this client.
  } else {
    log(`unknown message type ${messageType}`)
  }
  notify()
})

socket.on('error', (data) => {
  errors.push(data)
  notify()
})

socket.on('disconnect', (reason) => {
  log(`disconnected: ${reason}`)
  notify()
})

doc.on('update', (update, origin) => {
  if (origin === REMOTE || !joined) return
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MESSAGE_SYNC)
  syncProtocol.writeUpdate(encoder, update)
  send(encoder)
})

// --- the document model helpers ------------------------------------------------------------

function elementChildren (node) {
  return node.toArray().filter((child) => child instanceof Y.XmlElement)
}

function elementAt (path) {
  let node = body
  for (const index of path) {
    const elements = elementChildren(node)
    if (!(index >= 0 && index < elements.length)) {
      throw new Error(`path ${JSON.stringify(path)}: no element child ${index} (there are ${elements.length})`)
    }
    node = elements[index]
  }
  return node
}

function textAt (path) {
  const element = elementAt(path)
  if (!(element instanceof Y.XmlElement)) throw new Error(`path ${JSON.stringify(path)} is the body`)
  const text = element.toArray().find((child) => child instanceof Y.XmlText)
  if (!text) throw new Error(`path ${JSON.stringify(path)}: <${element.nodeName}> has no text child`)
  return text
}

function resolveIndex (text, index) {
  const current = text.toString()
  if (index === 'end') return current.length
  if (typeof index === 'number' && index >= 0 && index <= current.length) return index
  if (index && typeof index === 'object' && typeof index.before === 'string') {
    const at = current.indexOf(index.before)
    if (at < 0) throw new Error(`${JSON.stringify(index.before)} not in ${JSON.stringify(current)}`)
    return at
  }
  throw new Error(`bad index ${JSON.stringify(index)} for a text of length ${current.length}`)
}

function fill (element, spec) {
  for (const [key, value] of Object.entries(spec.attrs || {})) element.setAttribute(key, String(value))
  for (const childSpec of spec.children || []) {
    if (typeof childSpec.text === 'string') {
      const text = new Y.XmlText()
      element.push([text])
      text.insert(0, childSpec.text)
    } else {
      const child = new Y.XmlElement(childSpec.tag)
      element.push([child])
      fill(child, childSpec)
    }
  }
}

// --- commands ------------------------------------------------------------------------------

const commands = {
  async wait_synced (cmd) {
    await waitFor(() => step2Count > 0, cmd.timeout ?? 20, 'the initial sync')
    return {}
  },
  async sync (cmd) {
    const target = step2Count + 1
    sendStep1()
    await waitFor(() => step2Count >= target, cmd.timeout ?? 20, 'the answer to sync step1')
    return {}
  },
  async insert (cmd) {
    if (typeof cmd.text !== 'string') throw new Error('insert needs "text"')
    doc.transact(() => {
      const text = textAt(cmd.path)
      text.insert(resolveIndex(text, cmd.index ?? 0), cmd.text)
    })
    return {}
  },
  async insert_element (cmd) {
    doc.transact(() => {
      const parent = elementAt(cmd.path)
      const elements = elementChildren(parent)
      const children = parent.toArray()
      const at = cmd.index ?? elements.length
      if (!(at >= 0 && at <= elements.length)) throw new Error(`bad element index ${at}`)
      const position = at === elements.length ? children.length : children.indexOf(elements[at])
      const element = new Y.XmlElement(cmd.node.tag)
      parent.insert(position, [element])
      fill(element, cmd.node)
    })
    return {}
  },
  async text (cmd) {
    return { text: textAt(cmd.path).toString() }
  },
  async state () {
    return { state: Buffer.from(Y.encodeStateAsUpdate(doc)).toString('base64') }
  },
  async xml () {
    return { xml: body.toString() }
  },
  async errors () {
    return { errors }
  },
  async quit () {
    return { quit: true }
  }
}

async function connectAndJoin () {
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('connect_error', (error) => reject(new Error(`connect failed: ${error.message}`)))
  })
  const ack = await socket.timeout(20000).emitWithAck('join', { document: args.document })
  if (!ack || !ack.ok) throw new Error(`join refused: ${JSON.stringify(ack)}`)
  joined = true
  sendStep1()
  return ack
}

async function main () {
  let ack
  try {
    ack = await connectAndJoin()
  } catch (error) {
    out({ ready: false, error: error.message })
    socket.close()
    process.exit(1)
  }
  out({ ready: true, role: ack.role, clientID: doc.clientID })

  const input = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
  for await (const line of input) {
    if (!line.trim()) continue
    let cmd
    try {
      cmd = JSON.parse(line)
    } catch (error) {
      out({ ok: false, error: `not JSON: ${error.message}` })
      continue
    }
    const handler = commands[cmd.cmd]
    try {
      if (!handler) throw new Error(`unknown command ${JSON.stringify(cmd.cmd)}`)
      out({ id: cmd.id, ok: true, ...(await handler(cmd)) })
    } catch (error) {
      out({ id: cmd.id, ok: false, error: error.message })
    }
    if (cmd.cmd === 'quit') break
  }
  socket.close()
  process.exit(0)
}

main()
