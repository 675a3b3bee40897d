// SocketIOProvider: binds a Y.Doc (+ awareness) to the Constituent socket.io server.
//
// Protocol (namespace /collab, path /socket.io, websocket transport):
//   emit "join" {document: slug}, ack {ok, role} | {ok: false, error}; again after every reconnect.
//   emit/on "y" (slug, bytes): one y-protocols message (0 = sync, 1 = awareness).
//   on "error" {document, code, message}.
import { io } from 'socket.io-client'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { Observable } from 'lib0/observable'
import * as syncProtocol from 'y-protocols/sync'
import * as awarenessProtocol from 'y-protocols/awareness'

export const MESSAGE_SYNC = 0
export const MESSAGE_AWARENESS = 1
const RESYNC_MS = 20000

function toUint8 (data) {
  if (data instanceof Uint8Array) return data
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  if (Array.isArray(data)) return Uint8Array.from(data)
  return null
}

export class SocketIOProvider extends Observable {
  /**
   * @param {string} slug
   * @param {import('yjs').Doc} ydoc
   * @param {{awareness?: awarenessProtocol.Awareness, url?: string, path?: string,
   *          readOnly?: boolean, resyncInterval?: number, autoConnect?: boolean, socketOptions?: object}} [opts]
   */
  constructor (slug, ydoc, opts = {}) {
    super()
    this.slug = slug
    this.doc = ydoc
    this.awareness = opts.awareness || new awarenessProtocol.Awareness(ydoc)
    this.readOnly = !!opts.readOnly
    this.role = null
    this.status = 'disconnected'
    this.joined = false
    this._synced = false
    this.everSynced = false
    this.lastError = null
    this.resyncInterval = opts.resyncInterval || RESYNC_MS
    this._resyncTimer = null
    const url = (opts.url || '') + '/collab'
    this.socket = io(url, Object.assign({
      path: opts.path || '/socket.io',
      transports: ['websocket'],
      autoConnect: false,
      reconnection: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000
    }, opts.socketOptions || {}))

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

    this.socket.on('connect', () => this._join())
    // The document moved to another stage: the server has re-decided our right to write.
    this.socket.on('stage', (info) => {
      if (!info || info.document !== this.slug) return
      this.role = info.role === 'editor' ? 'editor' : 'viewer'
      this.emit('role', [this.role])
      this.emit('stage', [info])
    })
    this.socket.on('disconnect', () => this._lost())
    this.socket.on('connect_error', (err) => {
      this._setStatus('disconnected')
      this.emit('connection-error', [err])
    })
    this.socket.on('y', (slug, data) => this._receive(slug, data))
    this.socket.on('error', (payload) => {
      if (payload && payload.document && payload.document !== this.slug) return
      this.lastError = payload || {}
      this.emit('error', [payload || {}])
    })
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

  _setStatus (status) {
    if (this.status !== status) {
      this.status = status
      this.emit('status', [{ status }])
    }
  }

  connect () {
    this._setStatus('connecting')
    this.socket.connect()
  }

  disconnect () {
    this.socket.disconnect()
    this._lost()
  }

  _join () {
    this._setStatus('connecting')
    this.socket.emit('join', { document: this.slug }, (ack) => {
      if (!ack || !ack.ok) {
        this.joined = false
        this.lastError = { code: 'join-failed', message: (ack && ack.error) || 'join failed' }
        this._setStatus('error')
        this.emit('error', [this.lastError])
        return
      }
      this.role = ack.role === 'editor' ? 'editor' : 'viewer'
      this.emit('role', [this.role])
      this.joined = true
      this.lastError = null
      this._setStatus('connected')
      this._sendStep1()
      if (this.awareness.getLocalState() !== null) this._sendAwareness([this.doc.clientID])
      this._startResync()
    })
  }

  _lost () {
    const wasJoined = this.joined
    this.joined = false
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
      if (this.joined && this.socket.connected) this._sendStep1()
    }, this.resyncInterval)
  }

  _stopResync () {
    if (this._resyncTimer) clearInterval(this._resyncTimer)
    this._resyncTimer = null
  }

  _send (bytes) {
    if (this.socket.connected) this.socket.emit('y', this.slug, bytes)
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

  _receive (slug, data) {
    if (slug !== this.slug) return
    const bytes = toUint8(data)
    if (!bytes || !bytes.length) return
    try {
      const dec = decoding.createDecoder(bytes)
      const type = decoding.readVarUint(dec)
      if (type === MESSAGE_SYNC) {
        const enc = encoding.createEncoder()
        encoding.writeVarUint(enc, MESSAGE_SYNC)
        const step = syncProtocol.readSyncMessage(dec, enc, this.doc, this)
        // A step1 from the server is answered with our step2 (only when we may write).
        if (step === syncProtocol.messageYjsSyncStep1 && encoding.length(enc) > 1 && this.canWrite) {
          this._send(encoding.toUint8Array(enc))
        }
        if (step === syncProtocol.messageYjsSyncStep2) this.synced = true
      } else if (type === MESSAGE_AWARENESS) {
        awarenessProtocol.applyAwarenessUpdate(this.awareness, decoding.readVarUint8Array(dec), this)
      }
    } catch (e) {
      console.error('constituent: bad message from server', e)
    }
  }

  destroy () {
    this._onUnload()
    this._stopResync()
    this.doc.off('update', this._onUpdate)
    this.awareness.off('update', this._onAwareness)
    if (typeof window !== 'undefined') {
      window.removeEventListener('pagehide', this._onUnload)
      window.removeEventListener('beforeunload', this._onUnload)
    }
    this.socket.removeAllListeners()
    this.socket.disconnect()
    super.destroy()
  }
}
