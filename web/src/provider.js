// LiveProvider: binds a Y.Doc (+ awareness) to a Constituent document over /yjs/<slug>.
//
// Protocol: a WebSocket carrying raw y-protocols messages, one per binary frame, as y-websocket
// speaks them (0 = sync, 1 = awareness, 2 = auth: permission denied + reason). With ?events=1 the
// server also sends our editor message type 100, a JSON [event, data]:
//   joined {document, role}   after every (re)connection: the server decided our right to write
//   stage {document, stage, role}   the document moved to another stage: rights re-decided
//   error {document, code, message}   something we sent was refused
//   comments / public-comments / provenance / amendment {document, …}   a panel's data changed
// The server sends its sync step 1 on connect; we answer with our step 2 (only when we may write)
// and send our own step 1, again every resyncInterval.
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { Observable } from 'lib0/observable'
import * as syncProtocol from 'y-protocols/sync'
import * as awarenessProtocol from 'y-protocols/awareness'
import { liveUrl, takeEarly } from './connect.js'

export { liveUrl }

export const MESSAGE_SYNC = 0
export const MESSAGE_AWARENESS = 1
export const MESSAGE_AUTH = 2
export const MESSAGE_EVENT = 100
const RESYNC_MS = 20000
const PANEL_EVENTS = new Set(['comments', 'public-comments', 'provenance', 'amendment', 'suggestion-notes'])

export class LiveProvider extends Observable {
  /**
   * @param {string} slug
   * @param {import('yjs').Doc} ydoc
   * @param {{awareness?: awarenessProtocol.Awareness, url?: string, readOnly?: boolean,
   *          resyncInterval?: number, autoConnect?: boolean}} [opts]
   */
  constructor (slug, ydoc, opts = {}) {
    super()
    this.slug = slug
    this.doc = ydoc
    this.awareness = opts.awareness || new awarenessProtocol.Awareness(ydoc)
    this.readOnly = !!opts.readOnly
    this.url = opts.url || liveUrl(slug)
    this.role = null
    this.status = 'disconnected'
    this.joined = false
    this._synced = false
    this.everSynced = false
    this.lastError = null
    this.followers = 0
    this.resyncInterval = opts.resyncInterval || RESYNC_MS
    this._resyncTimer = null
    this._retryTimer = null
    this._retryDelay = 500
    this._wanted = false
    this._step1Sent = false // the early connection (connect.js) already asked for the document
    this.ws = null

    this._onUpdate = (update, origin) => {
      if (origin === this || !this.joined || !this.canWrite) return
      const enc = encoding.createEncoder()
      encoding.writeVarUint(enc, MESSAGE_SYNC)
      syncProtocol.writeUpdate(enc, update)
      this._send(encoding.toUint8Array(enc))
    }
    this._onAwareness = ({ added, updated, removed }, origin) => {
      if (origin === this || !this.joined) return
      const changed = added.concat(updated, removed)
      if (!changed.length) return
      this._sendAwareness(changed)
    }
    this._onUnload = () => {
      awarenessProtocol.removeAwarenessStates(this.awareness, [this.doc.clientID], 'window unload')
    }
    this.doc.on('update', this._onUpdate)
    this.awareness.on('update', this._onAwareness)
    if (typeof window !== 'undefined') {
      window.addEventListener('pagehide', this._onUnload)
      window.addEventListener('beforeunload', this._onUnload)
    }
    if (opts.autoConnect !== false) this.connect()
  }

  get synced () { return this._synced }
  set synced (value) {
    if (this._synced !== value) {
      this._synced = value
      if (value) this.everSynced = true
      this.emit('synced', [value])
      this.emit('sync', [value])
    }
  }

  get canWrite () { return !this.readOnly && this.role === 'editor' }

  get connected () { return !!this.ws && this.ws.readyState === 1 }

  _setStatus (status) {
    if (this.status !== status) {
      this.status = status
      this.emit('status', [{ status }])
    }
  }

  connect () {
    this._wanted = true
    if (this.ws) return
    this._setStatus('connecting')
    // The connection the page opened while loading (connect.js), when there is one: its
    // messages so far are handled first, in order, as if they had just arrived.
    const early = takeEarly(this.url)
    const ws = early ? early.ws : new WebSocket(this.url)
    ws.binaryType = 'arraybuffer'
    this.ws = ws
    this._step1Sent = !!(early && early.askedState)
    ws.onmessage = (event) => this._receive(new Uint8Array(event.data))
    ws.onopen = () => {
      this._retryDelay = 500
      // The server's step 1 arrives by itself; ours goes once it has told us our role.
    }
    ws.onerror = (err) => this.emit('connection-error', [err])
    ws.onclose = () => {
      if (this.ws !== ws) return
      this.ws = null
      this._lost()
      if (this._wanted) {
        this._retryTimer = setTimeout(() => { this._retryTimer = null; this.connect() }, this._retryDelay)
        this._retryDelay = Math.min(5000, this._retryDelay * 2)
      }
    }
    if (early) {
      if (ws.readyState === 1) this._retryDelay = 500
      // After the current task's other work (the caller finishes setting up): a microtask, so
      // that no frame is drawn, and no other message handled, before these.
      if (early.messages.length) {
        queueMicrotask(() => {
          for (const data of early.messages.splice(0)) {
            if (this.ws !== ws) return
            this._receive(new Uint8Array(data))
          }
        })
      }
    }
  }

  disconnect () {
    this._wanted = false
    if (this._retryTimer) clearTimeout(this._retryTimer)
    this._retryTimer = null
    const ws = this.ws
    this.ws = null
    if (ws) ws.close()
    this._lost()
  }

  _joinedAs (role) {
    this.role = role === 'editor' ? 'editor' : 'viewer'
    this.emit('role', [this.role])
    this.joined = true
    this.lastError = null
    this._setStatus('connected')
    if (this._step1Sent) this._step1Sent = false // answered (or being answered) already
    else this._sendStep1()
    if (this.awareness.getLocalState() !== null) this._sendAwareness([this.doc.clientID])
    this._startResync()
  }

  _lost () {
    const wasJoined = this.joined
    this.joined = false
    this._step1Sent = false
    this._stopResync()
    this.synced = false
    const others = Array.from(this.awareness.getStates().keys()).filter(id => id !== this.doc.clientID)
    if (others.length) awarenessProtocol.removeAwarenessStates(this.awareness, others, this)
    this._setStatus('disconnected')
    return wasJoined
  }

  _startResync () {
    this._stopResync()
    this._resyncTimer = setInterval(() => {
      if (this.joined && this.connected) this._sendStep1()
    }, this.resyncInterval)
  }

  _stopResync () {
    if (this._resyncTimer) clearInterval(this._resyncTimer)
    this._resyncTimer = null
  }

  _send (bytes) {
    if (this.connected) this.ws.send(bytes)
  }

  _sendStep1 () {
    const enc = encoding.createEncoder()
    encoding.writeVarUint(enc, MESSAGE_SYNC)
    syncProtocol.writeSyncStep1(enc, this.doc)
    this._send(encoding.toUint8Array(enc))
  }

  _sendAwareness (clients) {
    const enc = encoding.createEncoder()
    encoding.writeVarUint(enc, MESSAGE_AWARENESS)
    encoding.writeVarUint8Array(enc, awarenessProtocol.encodeAwarenessUpdate(this.awareness, clients))
    this._send(encoding.toUint8Array(enc))
  }

  _event (name, data) {
    if (!data || (data.document && data.document !== this.slug)) return
    if (name === 'joined') {
      this._joinedAs(data.role)
    } else if (name === 'stage') {
      // The document moved to another stage: the server has re-decided our right to write.
      this.role = data.role === 'editor' ? 'editor' : 'viewer'
      this.emit('role', [this.role])
      this.emit('stage', [data])
    } else if (name === 'error') {
      this.lastError = data
      this.emit('error', [data])
    } else if (PANEL_EVENTS.has(name)) {
      this.emit(name, [data])
    }
  }

  // Runs fn (which applies the server's changes, origin this) without our 'update' listener:
  // Yjs encodes every transaction's update again for 'update' listeners, and ours sends only
  // our own changes; on a whole constitution that encoding is a tenth of the text's first
  // build. A change of anyone else's made meanwhile (none is expected: the plugins leave remote
  // changes alone) is still sent, as the update since the state before it.
  _quietly (fn) {
    const others = []
    const note = (tr) => {
      if (tr.origin === this) return
      if (tr.deleteSet.clients.size || Array.from(tr.afterState).some(([client, clock]) => tr.beforeState.get(client) !== clock)) {
        others.push(tr)
      }
    }
    this.doc.off('update', this._onUpdate)
    this.doc.on('afterTransaction', note)
    try {
      return fn()
    } finally {
      this.doc.off('afterTransaction', note)
      this.doc.on('update', this._onUpdate)
      for (const tr of others) this._onUpdate(Y.encodeStateAsUpdate(this.doc, Y.encodeStateVector(tr.beforeState)), tr.origin)
    }
  }

  _receive (bytes) {
    if (!bytes || !bytes.length) return
    try {
      const dec = decoding.createDecoder(bytes)
      const type = decoding.readVarUint(dec)
      if (type === MESSAGE_SYNC) {
        const enc = encoding.createEncoder()
        encoding.writeVarUint(enc, MESSAGE_SYNC)
        const step = this._quietly(() => syncProtocol.readSyncMessage(dec, enc, this.doc, this))
        // A step1 from the server is answered with our step2 (only when we may write).
        if (step === syncProtocol.messageYjsSyncStep1 && encoding.length(enc) > 1 && this.canWrite) {
          this._send(encoding.toUint8Array(enc))
        }
        if (step === syncProtocol.messageYjsSyncStep2) this.synced = true
      } else if (type === MESSAGE_AWARENESS) {
        awarenessProtocol.applyAwarenessUpdate(this.awareness, decoding.readVarUint8Array(dec), this)
      } else if (type === MESSAGE_AUTH) {
        decoding.readVarUint(dec)
        this._event('error', { code: 'denied', message: decoding.readVarString(dec) })
      } else if (type === MESSAGE_EVENT) {
        const [name, data] = JSON.parse(decoding.readVarString(dec))
        this._event(name, data)
      }
    } catch (e) {
      console.error('constituent: bad message from server', e)
    }
  }

  destroy () {
    this._onUnload()
    this.disconnect()
    this.doc.off('update', this._onUpdate)
    this.awareness.off('update', this._onAwareness)
    if (typeof window !== 'undefined') {
      window.removeEventListener('pagehide', this._onUnload)
      window.removeEventListener('beforeunload', this._onUnload)
    }
    super.destroy()
  }
}
