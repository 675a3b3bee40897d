// Benchmark clients speaking y-protocols over raw WebSockets (one message per binary frame), as
// the npm `y-websocket` provider does, against any y-websocket-compatible server: Constituent's
// /yjs/<slug> or y-websocket's own Node server. Driven by bench/_node.py.
//
//   node clients.mjs <config.json>
//
// The config's `mode`:
//   writer     one connection with a Y.Doc; after "go" on stdin, inserts the marker "[n]" at the
//              end of the document's text `rate` times a second for `seconds`, noting each send time.
//   listeners  many connections, each with its own Y.Doc: every update is applied with Yjs, and
//              the time each marker first appears in the replica's text is noted (in an observer,
//              inside the apply).
//   audience   many follower connections that sync once (send step 1 with an empty state vector,
//              receive step 2, answer the server's step 1) and then stay idle. They do not build a
//              Y.Doc (2,000 replicas of a constitution would not fit in a client process); they check
//              that step 2 arrived and count its bytes.
//   syncprobe  a new connection per probe: wait for the server's first message (it has joined the
//              room), then time sending sync step 1 with an empty state vector until step 2 arrives.
//
// Protocol with the parent: lines on stdout ("READY {...}", "LOG ...", "DONE {...}"), commands on
// stdin ("go", "stop"). Results go to the config's `out` file. Every wait has a deadline.
//
// Clock: process.hrtime.bigint(), which is libuv's uv_hrtime = CLOCK_MONOTONIC on Linux, the same
// clock in every process on the machine (and Python's time.clock_gettime_ns(CLOCK_MONOTONIC)).

import fs from 'node:fs'
import readline from 'node:readline'
import WebSocket from 'ws'
import * as Y from 'yjs'
import * as syncProtocol from 'y-protocols/sync'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'

const MESSAGE_SYNC = 0
const MESSAGE_AWARENESS = 1
const MESSAGE_AUTH = 2
const MARKER = /\[(\d+)\]/g
const REMOTE = Symbol('remote')

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))
const deadlineMs = (config.deadline_s ?? 600) * 1000
const startedAt = Date.now()

const now = () => Number(process.hrtime.bigint()) // ns, CLOCK_MONOTONIC
const say = (kind, data) => process.stdout.write(`${kind} ${JSON.stringify(data ?? {})}\n`)
const log = (text) => process.stdout.write(`LOG ${text}\n`)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// The whole process is bounded in time, whatever happens.
setTimeout(() => { log(`deadline of ${config.deadline_s} s reached: exiting`); finish(3) }, deadlineMs).unref()

let finishing = false
let results = {}
function finish (code = 0) {
  if (finishing) return
  finishing = true
  try {
    fs.writeFileSync(config.out, JSON.stringify(results))
  } catch (err) {
    process.stderr.write(`cannot write results: ${err}\n`)
  }
  say('DONE', { code })
  for (const ws of openSockets) {
    try { ws.terminate() } catch (_) {}
  }
  setTimeout(() => process.exit(code), 50)
}

const openSockets = new Set()
const commands = []
const waiters = []
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  commands.push(line.trim())
  while (waiters.length) waiters.shift()()
}).on('close', () => { commands.push('stop'); while (waiters.length) waiters.shift()() })

async function command (expected, timeoutMs) {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    const i = commands.findIndex((c) => expected.includes(c))
    if (i >= 0) return commands.splice(i, 1)[0]
    await Promise.race([new Promise((resolve) => waiters.push(resolve)), sleep(Math.min(1000, until - Date.now()))])
  }
  return null
}

function open (spec) {
  const headers = {}
  if (spec.cookie) headers.Cookie = spec.cookie
  const ws = new WebSocket(spec.url, { headers, origin: config.origin, perMessageDeflate: false })
  ws.binaryType = 'arraybuffer'
  openSockets.add(ws)
  ws.on('close', () => openSockets.delete(ws))
  return ws
}

function frameOf (encoder) {
  return encoding.toUint8Array(encoder)
}

function step1Empty () {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MESSAGE_SYNC)
  syncProtocol.writeSyncStep1(encoder, new Y.Doc())
  return frameOf(encoder)
}

// A client that has sent sync step 1 and got no step 2 after `resend_step1_s` seconds sends it
// again (at most 3 times), as y-websocket's provider does with its `resyncInterval` option; how
// many connections needed it is reported (a server that lost a step 1 shows up there).
function resendStep1 (client, ws, makeStep1) {
  const every = (config.resend_step1_s ?? 5) * 1000
  if (!(every > 0)) return
  const timer = setInterval(() => {
    if (client.synced || ws.readyState !== WebSocket.OPEN || client.step1Resent >= 3) {
      clearInterval(timer)
      return
    }
    client.step1Resent++
    ws.send(makeStep1())
  }, every)
  ws.on('close', () => clearInterval(timer))
}

// --- a peer with a Y.Doc (writer and listeners) -------------------------------------------------

class Peer {
  constructor (spec) {
    this.name = spec.name
    this.spec = spec
    this.doc = new Y.Doc()
    this.arrivals = new Map() // seq -> ns
    this.synced = false
    this.closed = false
    this.closeInfo = null
    this.errors = []
    this.denied = [] // the first few y-websocket auth messages ("permission denied") received
    this.step1Resent = 0
    this.step1Times = []
    this.counts = { step1: 0, step2: 0, update: 0, awareness: 0, denied: 0, other: 0, bytes: 0 }
    this.body = this.doc.getXmlFragment('body')
    if (spec.seed) Y.applyUpdate(this.doc, Buffer.from(spec.seed, 'base64'), REMOTE)
    if (spec.watch) {
      this.body.observeDeep((events) => {
        const at = now()
        for (const event of events) {
          if (!(event.target instanceof Y.XmlText)) continue
          for (const op of event.delta) {
            if (typeof op.insert !== 'string') continue
            for (const match of op.insert.matchAll(MARKER)) {
              const seq = Number(match[1])
              if (!this.arrivals.has(seq)) this.arrivals.set(seq, at)
            }
          }
        }
      })
    }
    this.syncedPromise = new Promise((resolve, reject) => { this._synced = resolve; this._failed = reject })
  }

  connect () {
    const ws = this.ws = open(this.spec)
    this.stage = 'handshake'
    const step1 = () => {
      const encoder = encoding.createEncoder()
      encoding.writeVarUint(encoder, MESSAGE_SYNC)
      syncProtocol.writeSyncStep1(encoder, this.doc)
      return frameOf(encoder)
    }
    ws.on('open', () => {
      this.stage = 'open, step 1 sent'
      ws.send(step1())
      resendStep1(this, ws, step1)
    })
    ws.on('message', (data) => this.onMessage(data))
    ws.on('error', (err) => { this.errors.push(String(err)); this._failed(err) })
    ws.on('unexpected-response', (_req, res) => {
      const err = new Error(`HTTP ${res.statusCode} on upgrade`)
      this.errors.push(String(err))
      this._failed(err)
      ws.terminate()
    })
    ws.on('close', (code, reason) => {
      this.closed = true
      this.closeInfo = { code, reason: String(reason), at: now() }
      this._failed(new Error(`closed ${code} ${reason}`))
    })
    this.doc.on('update', (update, origin) => {
      if (origin === REMOTE || ws.readyState !== WebSocket.OPEN) return
      const encoder = encoding.createEncoder()
      encoding.writeVarUint(encoder, MESSAGE_SYNC)
      syncProtocol.writeUpdate(encoder, update)
      ws.send(frameOf(encoder))
    })
    return this.syncedPromise
  }

  onMessage (data) {
    const message = new Uint8Array(data)
    this.counts.bytes += message.length
    if (!this.synced) this.stage = `received ${message.length} bytes`
    try {
      const decoder = decoding.createDecoder(message)
      const type = decoding.readVarUint(decoder)
      if (type === MESSAGE_SYNC) {
        const encoder = encoding.createEncoder()
        encoding.writeVarUint(encoder, MESSAGE_SYNC)
        const step = syncProtocol.readSyncMessage(decoder, encoder, this.doc, REMOTE)
        if (step === 0) {
          this.counts.step1++
          if (this.step1Times.length < 10) this.step1Times.push(now()) // on join, then the server's resyncs
        }
        else if (step === 1) this.counts.step2++
        else this.counts.update++
        if (encoding.length(encoder) > 1) this.ws.send(frameOf(encoder))
        if (step === 1 && !this.synced) {
          this.synced = true
          this._synced()
        }
      } else if (type === MESSAGE_AWARENESS) {
        decoding.readVarUint8Array(decoder)
        this.counts.awareness++
      } else if (type === MESSAGE_AUTH) {
        // y-websocket's auth message: 0 = permission denied, then the reason.
        this.counts.denied++
        const denied = decoding.readVarUint(decoder) === 0
        const reason = decoding.hasContent(decoder) ? decoding.readVarString(decoder) : ''
        if (this.denied.length < 3) this.denied.push(`${denied ? 'permission denied' : 'auth'}: ${reason}`)
      } else {
        this.counts.other++
        if (this.errors.length < 5) this.errors.push(`message type ${type} (${message.length} bytes)`)
      }
    } catch (err) {
      if (this.errors.length < 5) this.errors.push(`cannot apply: ${err}`)
    }
  }

  textTarget () {
    // The first XmlText under a `p` element (the benchmark document's only paragraph).
    const walk = (node) => {
      for (const child of node.toArray()) {
        if (child instanceof Y.XmlElement) {
          if (child.nodeName === 'p') {
            const first = child.toArray()[0]
            if (first instanceof Y.XmlText) return first
          }
          const found = walk(child)
          if (found) return found
        }
      }
      return null
    }
    return walk(this.body)
  }
}

async function connectAll (specs, makeOne, concurrency) {
  // Open connections with at most `concurrency` handshakes + syncs in flight.
  const outcomes = new Array(specs.length)
  const opening = Date.now()
  let next = 0
  let done = 0
  let lastOk = opening
  const worker = async () => {
    while (next < specs.length && Date.now() - startedAt < deadlineMs) {
      const i = next++
      const item = makeOne(specs[i])
      const timeout = sleep((config.sync_timeout_s ?? 60) * 1000).then(() => {
        throw new Error(`sync timeout (${item.stage ?? '?'})`)
      })
      try {
        await Promise.race([item.connect(), timeout])
        outcomes[i] = null
        lastOk = Date.now()
      } catch (err) {
        outcomes[i] = String(err)
      }
      done++
      if (config.progress_every && done % config.progress_every === 0) {
        log(`${done} of ${specs.length} connections settled after ${((Date.now() - opening) / 1000).toFixed(1)} s`)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, specs.length) }, worker))
  outcomes.lastSyncedSeconds = (lastOk - opening) / 1000
  return outcomes
}

// --- modes ----------------------------------------------------------------------------------------

async function listeners () {
  const peers = config.connections.map((spec) => new Peer({ ...spec, watch: true }))
  const started = now()
  const outcomes = await connectAll(config.connections, (spec) => peers[config.connections.indexOf(spec)], config.concurrency ?? 20)
  const failed = outcomes.filter((o) => o !== null)
  say('READY', { synced: peers.filter((p) => p.synced).length, failed: failed.length, first_error: failed[0] ?? null,
    step1_resent: peers.filter((p) => p.step1Resent > 0).length,
    seconds: (now() - started) / 1e9, last_synced_s: outcomes.lastSyncedSeconds })
  const got = await command(['stop'], deadlineMs)
  results = {
    peers: peers.map((p) => ({
      name: p.name,
      synced: p.synced,
      arrivals: Object.fromEntries(p.arrivals),
      closed: p.closed && !finishing ? p.closeInfo : null,
      errors: p.errors.slice(0, 5),
      denied: p.denied,
      step1_resent: p.step1Resent,
      step1_times: p.step1Times,
      counts: p.counts
    })),
    stopped_by: got
  }
  finish(0)
}

async function writer () {
  const peer = new Peer({ ...config.connections[0], watch: false })
  try {
    await Promise.race([peer.connect(), sleep((config.sync_timeout_s ?? 60) * 1000).then(() => { throw new Error('sync timeout') })])
  } catch (err) {
    say('READY', { ok: false, error: String(err), errors: peer.errors, stage: peer.stage, step1_resent: peer.step1Resent })
    results = { ok: false, error: String(err) }
    return finish(1)
  }
  // A seeding writer's state reached the server with its sync step 2; a round trip (step 1 -> step 2)
  // after it tells that the server has it before anyone else joins.
  await sleep(200)
  const text = peer.textTarget()
  if (!text) {
    say('READY', { ok: false, error: 'no <p> text in the document' })
    results = { ok: false, error: 'no <p> text' }
    return finish(1)
  }
  say('READY', { ok: true, text_length: text.length, step1_resent: peer.step1Resent })
  const got = await command(['go', 'stop'], deadlineMs)
  if (got !== 'go') { results = { ok: false, error: 'stopped before go' }; return finish(0) }
  // Warm-up: the same schedule, updates without a marker (not measured), then the measured ones.
  const rate = config.rate
  const warm = Math.round(rate * (config.warmup_s ?? 0))
  const count = Math.round(rate * config.seconds)
  const sent = {}
  let lateness = 0
  const t0 = now()
  let measuredFrom = t0
  for (let i = 0; i < warm + count; i++) {
    if (peer.closed) break
    const due = t0 + i * 1e9 / rate
    let delay = (due - now()) / 1e6
    if (delay > 0) await sleep(delay)
    delay = (due - now()) / 1e6
    if (delay < 0 && i >= warm) lateness = Math.max(lateness, -delay)
    const at = now()
    if (i === warm) measuredFrom = at
    const seq = i - warm
    // One transaction, one update; the doc's 'update' handler sends it before transact returns.
    peer.doc.transact(() => { text.insert(text.length, seq < 0 ? '~' : `[${seq}]`) })
    if (seq >= 0) sent[seq] = at
  }
  const typedFor = (now() - measuredFrom) / 1e9
  say('TYPED', { updates: Object.keys(sent).length, seconds: typedFor })
  await command(['stop'], Math.max(1000, deadlineMs - (Date.now() - startedAt) - 2000))
  results = {
    ok: !peer.closed,
    sent,
    measured_from_ns: measuredFrom,
    max_lateness_ms: lateness,
    typed_for_s: typedFor,
    closed: peer.closeInfo,
    errors: peer.errors,
    counts: peer.counts,
    step1_resent: peer.step1Resent,
    final_text_length: text.length
  }
  finish(0)
}

class Follower {
  constructor (spec) {
    this.spec = spec
    this.synced = false
    this.step2Bytes = 0
    this.closeInfo = null
    this.errors = []
    this.stage = 'not started'
    this.step1Resent = 0
    this.step2Count = 0
  }

  connect () {
    return new Promise((resolve, reject) => {
      const ws = this.ws = open(this.spec)
      this.stage = 'handshake'
      ws.on('upgrade', () => { this.stage = 'upgraded' })
      ws.on('open', () => { this.stage = 'open, step 1 sent'; ws.send(step1Empty()); resendStep1(this, ws, step1Empty) })
      ws.on('message', (data) => {
        const message = new Uint8Array(data)
        this.stage = `received ${message.length} bytes`
        const decoder = decoding.createDecoder(message)
        const type = decoding.readVarUint(decoder)
        if (type !== MESSAGE_SYNC) return
        const step = decoding.readVarUint(decoder)
        if (step === 0) {
          // The server's step 1: answer with what we have that it lacks (nothing: an empty update).
          const encoder = encoding.createEncoder()
          encoding.writeVarUint(encoder, MESSAGE_SYNC)
          syncProtocol.writeSyncStep2(encoder, new Y.Doc(), decoding.readVarUint8Array(decoder))
          ws.send(frameOf(encoder))
        } else if (step === 1) {
          this.step2Count++
          if (!this.synced) {
            this.step2Bytes = message.length
            this.synced = true
            resolve()
          }
        }
      })
      ws.on('error', (err) => { this.errors.push(String(err)); reject(err) })
      ws.on('unexpected-response', (_req, res) => { reject(new Error(`HTTP ${res.statusCode} on upgrade`)); ws.terminate() })
      ws.on('close', (code, reason) => { this.closeInfo = { code, reason: String(reason) }; reject(new Error(`closed ${code} ${reason}`)) })
    })
  }
}

async function audience () {
  const followers = config.connections.map((spec) => new Follower(spec))
  const started = now()
  const outcomes = await connectAll(config.connections, (spec) => followers[config.connections.indexOf(spec)], config.concurrency ?? 20)
  const failed = outcomes.filter((o) => o !== null)
  say('READY', {
    synced: followers.filter((f) => f.synced).length,
    failed: failed.length,
    first_error: failed[0] ?? null,
    seconds: (now() - started) / 1e9,
    last_synced_s: outcomes.lastSyncedSeconds,
    step1_resent: followers.filter((f) => f.step1Resent > 0).length,
    step2_bytes: followers.find((f) => f.synced)?.step2Bytes ?? null
  })
  const got = await command(['stop'], deadlineMs)
  const closedEarly = followers.filter((f) => f.closeInfo !== null).length
  results = {
    synced: followers.filter((f) => f.synced).length,
    // Connections that sent step 1 more than once and got fewer step 2s than step 1s sent: a
    // step 1 went unanswered (a slow answer would still have come by now).
    unanswered_step1: followers.filter((f) => f.step1Resent > 0 && f.step2Count < 1 + f.step1Resent).length,
    step1_resent: followers.filter((f) => f.step1Resent > 0).length,
    closed_before_stop: closedEarly,
    first_close: followers.find((f) => f.closeInfo)?.closeInfo ?? null,
    stopped_by: got
  }
  finish(0)
}

async function syncprobe () {
  const spec = config.connections[0]
  const step1 = step1Empty()
  const probes = []
  let verified = null
  for (let i = 0; i < config.probes && Date.now() - startedAt < deadlineMs - 5000; i++) {
    const probe = await new Promise((resolve) => {
      const ws = open(spec)
      let sentAt = null
      let timer = setTimeout(() => { ws.terminate(); resolve({ error: 'timeout' }) }, (config.sync_timeout_s ?? 30) * 1000)
      const done = (value) => { clearTimeout(timer); timer = null; ws.terminate(); resolve(value) }
      ws.on('message', (data) => {
        const message = new Uint8Array(data)
        const decoder = decoding.createDecoder(message)
        const type = decoding.readVarUint(decoder)
        if (type !== MESSAGE_SYNC) return
        const step = decoding.readVarUint(decoder)
        if (sentAt === null) {
          // The server's first message (its step 1): the connection is in the room. Now time ours.
          sentAt = now()
          ws.send(step1)
          return
        }
        if (step === 1) {
          const at = now()
          const result = { ms: (at - sentAt) / 1e6, bytes: message.length }
          if (verified === null && config.verify) {
            const doc = new Y.Doc()
            Y.applyUpdate(doc, decoding.readVarUint8Array(decoder))
            verified = { body_children: doc.getXmlFragment('body').length }
          }
          done(result)
        }
      })
      ws.on('error', (err) => done({ error: String(err) }))
      ws.on('unexpected-response', (_req, res) => done({ error: `HTTP ${res.statusCode} on upgrade` }))
      ws.on('close', (code) => { if (timer) done({ error: `closed ${code}` }) })
    })
    probes.push(probe)
    if (config.pause_ms) await sleep(config.pause_ms)
  }
  results = { probes, verified }
  finish(0)
}

const modes = { writer, listeners, audience, syncprobe }
if (!modes[config.mode]) {
  process.stderr.write(`unknown mode ${config.mode}\n`)
  process.exit(2)
}
modes[config.mode]().catch((err) => { process.stderr.write(`${err.stack ?? err}\n`); results = { error: String(err) }; finish(1) })
