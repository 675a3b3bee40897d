// Comments (#comments): the drafting side's comments on units and on ranges of their text.
//
// A comment on a range keeps its two ends as Yjs relative positions (y-prosemirror's
// absolutePositionToRelativePosition against the ySync binding's type and mapping; the start
// sticks to the first character of the range, the end to the last), so the highlight stays on
// the same words whatever anyone types around them. When the positions no longer lead into the
// comment's unit (its words were deleted, or the unit was moved as a whole), the quoted text
// kept with the comment is looked for in the unit; failing that, the comment shows its quote as
// "text no longer present".
// Data: the JSON API under /api/v1/documents/<slug>/comments; live: the `comments` socket event.
import * as Y from 'yjs'
import { Plugin, PluginKey, TextSelection } from 'prosemirror-state'
import { Decoration, DecorationSet } from 'prosemirror-view'
import { ySyncPluginKey, absolutePositionToRelativePosition, relativePositionToAbsolutePosition } from 'y-prosemirror'
import { isUnitType } from './schema.js'
import { Panel, el } from './panel.js'

export const commentsKey = new PluginKey('constituent-comments')

const MAX_QUOTE = 1000
const MAX_BODY = 5000
const REBUILD_MS = 150
const FOLLOW_MS = 120
const REFRESH_MS = 80

// --- relative positions -------------------------------------------------------------------------

function toBase64 (bytes) {
  let s = ''
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i])
  return btoa(s)
}

function fromBase64 (text) {
  const s = atob(text)
  const bytes = new Uint8Array(s.length)
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i)
  return bytes
}

/** Whether a Yjs type is still in the document (neither it nor a parent was deleted). */
function alive (type) {
  let t = type
  while (t && t._item) {
    if (t._item.deleted) return false
    t = t._item.parent
  }
  return true
}

/** The two ends of [from, to) as base64 relative positions (null if the binding is not ready). */
export function anchorRange (state, from, to) {
  const ystate = ySyncPluginKey.getState(state)
  if (!ystate || !ystate.binding || ystate.binding.mapping.size === 0) return null
  const { type, binding, doc: ydoc } = ystate
  const start = absolutePositionToRelativePosition(from, type, binding.mapping)
  let end = absolutePositionToRelativePosition(to, type, binding.mapping)
  // The end sticks to the last character of the range (assoc -1): text typed right after the
  // range stays out of it, as text typed right before the range does.
  const abs = Y.createAbsolutePositionFromRelativePosition(end, ydoc)
  if (abs && abs.type instanceof Y.XmlText && abs.index > 0) end = Y.createRelativePositionFromTypeIndex(abs.type, abs.index, -1)
  return { start: toBase64(Y.encodeRelativePosition(start)), end: toBase64(Y.encodeRelativePosition(end)) }
}

function resolvePosition (ystate, encoded) {
  const rel = Y.decodeRelativePosition(fromBase64(encoded))
  const abs = Y.createAbsolutePositionFromRelativePosition(rel, ystate.doc)
  if (!abs || !alive(abs.type)) return null
  return relativePositionToAbsolutePosition(ystate.doc, ystate.type, rel, ystate.binding.mapping)
}

/** Where each unit is: guid → {pos, node}. */
function unitPositions (doc) {
  const units = new Map()
  doc.descendants((node, pos) => {
    if (!isUnitType(node.type)) return false
    if (node.attrs.guid && !units.has(node.attrs.guid)) units.set(node.attrs.guid, { pos, node })
    return true
  })
  return units
}

/** The quoted text inside the unit (blocks joined by "\n", as the quote was taken), or null. */
function findQuote (unit, quote) {
  let text = ''
  const at = []
  unit.node.descendants((child, offset) => {
    if (!child.isTextblock) return true // sub-units' text is the unit's too
    if (text) { text += '\n'; at.push(-1) }
    const start = unit.pos + 1 + offset + 1
    child.forEach((inline, o) => {
      if (!inline.isText) return
      for (let i = 0; i < inline.text.length; i++) { text += inline.text[i]; at.push(start + o + i) }
    })
    return false
  })
  const k = text.indexOf(quote)
  if (k < 0 || !quote) return null
  const from = at[k]
  const last = at[k + quote.length - 1]
  if (from < 0 || last < 0) return null
  return { from, to: last + 1 }
}

function locate (state, ystate, units, anchor) {
  const unit = units.get(anchor.unit)
  if (!unit) return { how: 'gone' }
  try {
    const from = resolvePosition(ystate, anchor.start)
    const to = resolvePosition(ystate, anchor.end)
    if (from !== null && to !== null && from < to && from > unit.pos && to < unit.pos + unit.node.nodeSize) {
      return { how: 'anchor', from, to }
    }
  } catch (_e) { /* positions of text this replica has not seen: try the quote */ }
  const found = findQuote(unit, anchor.quote)
  return found ? { how: 'quote', ...found } : { how: 'gone' }
}

// --- the decorations ----------------------------------------------------------------------------

function build (state, anchors, active, pending) {
  if (!anchors.length && !pending) return { anchors, active, pending, ranges: new Map(), decos: DecorationSet.empty, stale: false }
  const ystate = ySyncPluginKey.getState(state)
  const ready = !!(ystate && ystate.binding && ystate.binding.mapping.size > 0 && state.doc.childCount > 0)
  const units = unitPositions(state.doc)
  const ranges = new Map()
  const decos = []
  const marked = new Set()
  for (const a of anchors) {
    if (!a.quote) {
      ranges.set(a.id, { how: 'unit' })
      const unit = units.get(a.unit)
      if (unit && !marked.has(a.unit)) {
        marked.add(a.unit)
        decos.push(Decoration.node(unit.pos, unit.pos + unit.node.nodeSize, { class: 'cmt-unit-commented' }))
      }
      continue
    }
    if (!ready) { ranges.set(a.id, { how: 'pending' }); continue }
    const found = locate(state, ystate, units, a)
    ranges.set(a.id, found)
    if (found.how === 'gone') continue
    decos.push(Decoration.inline(found.from, found.to, {
      class: 'cmt-range cmt-c-' + a.id + (a.id === active ? ' cmt-active' : '')
    }, { comment: a.id }))
  }
  if (pending && ready) {
    try {
      const from = resolvePosition(ystate, pending.start)
      const to = resolvePosition(ystate, pending.end)
      if (from !== null && to !== null && from < to) decos.push(Decoration.inline(from, to, { class: 'cmt-pending' }))
    } catch (_e) { /* the selection went away */ }
  }
  return { anchors, active, pending, ranges, decos: DecorationSet.create(state.doc, decos), stale: false }
}

/** The plugin: highlights the open comments' ranges, marks units with open unit comments. */
export function commentsPlugin ({ onRanges, onSelection } = {}) {
  let timer = null
  return new Plugin({
    key: commentsKey,
    state: {
      init: (_, state) => build(state, [], null, null),
      apply (tr, old, _oldState, newState) {
        const meta = tr.getMeta(commentsKey)
        const ystate = ySyncPluginKey.getState(newState)
        if (meta || (ystate && ystate.isChangeOrigin)) {
          const m = meta || {}
          return build(newState, m.anchors || old.anchors, 'active' in m ? m.active : old.active,
            'pending' in m ? m.pending : old.pending)
        }
        if (tr.docChanged) return { ...old, decos: old.decos.map(tr.mapping, tr.doc), stale: old.anchors.length > 0 || !!old.pending }
        return old
      }
    },
    props: {
      decorations (state) { return commentsKey.getState(state).decos }
    },
    view: () => ({
      update (view, prev) {
        const now = commentsKey.getState(view.state)
        const before = commentsKey.getState(prev)
        if (now.stale) {
          // A local edit: the Yjs side is updated after this transaction; resolve again then.
          clearTimeout(timer)
          timer = setTimeout(() => {
            if (commentsKey.getState(view.state).stale) view.dispatch(view.state.tr.setMeta(commentsKey, {}).setMeta('addToHistory', false))
          }, REBUILD_MS)
        } else if (now.ranges !== before.ranges && onRanges) onRanges(now.ranges)
        if (onSelection && !view.state.selection.eq(prev.selection)) onSelection()
      },
      destroy () { clearTimeout(timer) }
    })
  })
}

// --- the panel ----------------------------------------------------------------------------------

export class CommentsPanel extends Panel {
  /**
   * @param {HTMLElement} root  the #comments aside (its h2 is kept)
   * @param {{slug: string, csrf: string, lang: string, t: object, base?: string}} opts
   */
  constructor (root, opts) {
    super(root, opts, { strings: 'cmt', prefix: 'cmt', headingId: 'comments-title', path: '/comments' })
    this.view = null
    this.unitAt = null
    this.threads = [] // every thread, open and resolved, with replies
    this.open = 0
    this.ranges = new Map()
    this.active = null
    this.pending = null // {unit, label, quote?, start?, end?}
    this.following = false
    this.showResolved = false
    this.loaded = false
    this.home = opts.base || ''
    this.people = null // who may be mentioned, fetched with the first @
    this.suggestFor = null // the text box whose @name is being completed
    this.build()
  }

  plugins () {
    return [commentsPlugin({ onRanges: (ranges) => this.rangesChanged(ranges), onSelection: () => this.selectionChanged() })]
  }

  // --- skeleton ---

  build () {
    const t = this.t
    this.countEl = el('summary', { class: 'cmt-count', text: t.loading })
    this.allEl = el('ul', { class: 'cmt-all-list' })
    this.all = el('details', { class: 'cmt-all' }, this.countEl, this.allEl)
    this.newButton = el('button', {
      type: 'button', class: 'cmt-new', dataset: { action: 'new' }, 'aria-keyshortcuts': 'Control+Alt+M', title: t.shortcut, text: t.commentSelection
    })
    this.startEl = el('div', { class: 'cmt-start' }, this.newButton, el('span', { class: 'cmt-key', 'aria-hidden': 'true', text: t.shortcut }))

    this.targetEl = el('p', { class: 'cmt-target' })
    this.textarea = el('textarea', { id: 'cmt-body', name: 'body', rows: '3', maxlength: String(MAX_BODY), required: true })
    this.formStatus = el('p', { class: 'cmt-form-status', role: 'status' })
    this.form = el('form', { class: 'cmt-form', hidden: true, 'aria-labelledby': 'cmt-form-h' },
      el('h3', { id: 'cmt-form-h', text: t.newTitle }),
      this.targetEl,
      el('label', { for: 'cmt-body', text: t.body }),
      this.textarea,
      el('div', { class: 'cmt-form-actions' },
        el('button', { type: 'submit', class: 'cmt-submit', text: t.publish }),
        el('button', { type: 'button', dataset: { action: 'cancel' }, text: t.cancel })),
      this.formStatus)

    this.listHeading = el('h3', { id: 'cmt-list-h', tabindex: '-1', text: t.here })
    this.listEl = el('ul', { class: 'cmt-threads', 'aria-labelledby': 'cmt-list-h' })
    this.resolvedBox = el('input', { type: 'checkbox', id: 'cmt-show-resolved' })
    this.suggest = el('ul', { class: 'cmt-suggest', id: 'cmt-suggest', role: 'listbox', 'aria-label': t.mentionList, hidden: true })
    this.assemble(this.all, this.unitEl, this.startEl, this.form, this.status,
      el('section', { class: 'cmt-section' }, this.listHeading, this.listEl),
      el('p', { class: 'cmt-toggle' }, this.resolvedBox, ' ', el('label', { for: 'cmt-show-resolved', text: t.showResolved })),
      el('p', { class: 'cmt-notify' }, el('a', {
        href: this.home + '/notifications/preferences/' + encodeURIComponent(this.slug), text: t.notifySettings
      })))

    // Completing an @name from the people who may read the comments (arrows, Enter or Tab, Escape).
    this.root.addEventListener('input', (e) => { if (e.target.matches('textarea')) this.complete(e.target) })
    this.root.addEventListener('keydown', (e) => {
      if (!this.suggestFor || e.target !== this.suggestFor || this.suggest.hidden) return
      const n = this.suggestItems.length
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') this.highlight((this.suggestIndex + (e.key === 'ArrowDown' ? 1 : n - 1)) % n)
      else if ((e.key === 'Enter' && !e.ctrlKey && !e.metaKey) || e.key === 'Tab') this.choose(this.suggestIndex)
      else if (e.key === 'Escape') this.closeSuggest()
      else return
      e.preventDefault()
      e.stopImmediatePropagation()
    })
    this.root.addEventListener('mousedown', (e) => {
      const option = e.target.closest && e.target.closest('.cmt-suggest-item')
      if (option) { e.preventDefault(); this.choose(Number(option.dataset.index)) }
    })
    this.root.addEventListener('focusout', (e) => { if (e.target === this.suggestFor) this.closeSuggest() })

    this.root.addEventListener('submit', (e) => {
      e.preventDefault()
      if (e.target === this.form) this.submit()
      else if (e.target.matches('form.cmt-reply')) this.reply(e.target)
    })
    this.root.addEventListener('keydown', (e) => {
      // Ctrl+Enter publishes from a text box; Escape abandons a new comment.
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && e.target.matches('textarea')) {
        e.preventDefault()
        e.target.form.requestSubmit()
      } else if (e.key === 'Escape' && this.form.contains(e.target)) {
        e.preventDefault()
        this.cancel()
      }
    })
    this.resolvedBox.addEventListener('change', () => { this.showResolved = this.resolvedBox.checked; this.render() })
  }

  /** Wire the panel to the editor once the view exists. */
  attach (view, { root, provider, unitAt }) {
    this.view = view
    this.unitAt = unitAt
    const start = () => { this.following = true }
    view.dom.addEventListener('focus', () => { start(); this.followSelection() })
    view.dom.addEventListener('mousedown', start)
    view.dom.addEventListener('click', (event) => this.clicked(event))
    const outline = root.querySelector('#outline')
    if (outline) {
      outline.addEventListener('click', (event) => {
        if (!event.target.closest('button[data-guid]')) return
        start()
        this.followSelection()
      })
    }
    root.addEventListener('keydown', (event) => {
      if ((event.ctrlKey || event.metaKey) && event.altKey && !event.shiftKey && event.code === 'KeyM') {
        event.preventDefault()
        this.startComment()
      }
    })
    if (provider) {
      this.listen(provider, 'comments')
      // The threads' anchors resolved against the text: when the threads came first (before
      // they come, there is nothing to draw, and load() draws them).
      provider.on('synced', (isSynced) => { if (isSynced && this.loaded) this.redraw() })
      // Comments made while this page was offline arrive with the reconnection.
      provider.on('status', ({ status }) => { if (status === 'connected' && this.loaded) this.scheduleRefresh() })
    }
    this.refresh()
  }

  // --- following the editor and the server ---

  selectionChanged () {
    if (!this.following) return
    this.debounce('follow', FOLLOW_MS, () => this.followSelection())
  }

  followSelection () {
    if (!this.view || !this.unitAt) return
    const info = this.unitAt(this.view.state.selection.$from)
    this.setUnit(info && info.guid ? { guid: info.guid, label: info.label } : null)
  }

  /** A click in the text: on a highlight, bring its comment forward; elsewhere, follow the unit. */
  clicked (event) {
    this.following = true
    const mark = event.target.closest && event.target.closest('.cmt-range')
    const ids = []
    for (let node = event.target; node && node !== this.view.dom; node = node.parentNode) {
      if (!node.classList) continue
      for (const c of node.classList) {
        const m = /^cmt-c-(\d+)$/.exec(c)
        if (m) ids.push(Number(m[1]))
      }
    }
    if (mark && ids.length) {
      // Overlapping ranges: the shortest one is the one pointed at.
      const size = (id) => { const r = this.ranges.get(id); return r && r.to !== undefined ? r.to - r.from : Infinity }
      ids.sort((a, b) => size(a) - size(b))
      this.activate(ids[0], { scroll: true })
      return
    }
    const found = this.view.posAtCoords({ left: event.clientX, top: event.clientY })
    if (found && this.unitAt) {
      const info = this.unitAt(this.view.state.doc.resolve(found.pos))
      this.setUnit(info && info.guid ? { guid: info.guid, label: info.label } : null)
    }
  }

  setUnit (unit) {
    const guid = unit && unit.guid ? unit.guid : null
    const same = guid === (this.unit && this.unit.guid)
    this.unit = guid ? { guid, label: unit.label || '' } : null
    if (!same && this.active !== null) {
      const thread = this.thread(this.active)
      if (!thread || thread.unit !== guid) this.setActive(null)
    }
    this.render()
  }

  /** Someone changed a comment of this document (the `comments` socket event). */
  changed () {
    this.scheduleRefresh()
  }

  scheduleRefresh () {
    this.debounce('refresh', REFRESH_MS, () => this.refresh())
  }

  async load (current) {
    try {
      const data = await this.api('?include=resolved')
      if (!current()) return this.refreshing
      this.threads = data.comments || []
      this.open = data.open || 0
      this.loaded = true
      this.root.dataset.state = 'ready'
      this.redraw()
      this.render()
      if (!this.openedFromAddress) {
        // A notification's link (/d/<slug>/edit?comment=<thread>) opens that thread once.
        this.openedFromAddress = true
        const wanted = Number(new URLSearchParams(window.location.search).get('comment'))
        if (wanted && this.thread(wanted)) this.activate(wanted, { scroll: true })
      }
    } catch (error) {
      if (!current()) return this.refreshing
      this.say(this.failure(error, this.t.loadFailed), true)
    }
  }

  thread (id) {
    return this.threads.find(c => c.id === id) || null
  }

  /** Hand the open threads to the plugin (it resolves their anchors and draws them). */
  redraw () {
    if (!this.view) return
    const anchors = this.threads.filter(c => c.status === 'open' && c.unit_present !== false).map(c => ({
      id: c.id, unit: c.unit, quote: c.anchor ? c.anchor.quote : null,
      start: c.anchor ? c.anchor.start : null, end: c.anchor ? c.anchor.end : null
    }))
    const pending = this.pending && this.pending.start ? { start: this.pending.start, end: this.pending.end } : null
    this.view.dispatch(this.view.state.tr.setMeta(commentsKey, { anchors, active: this.active, pending }).setMeta('addToHistory', false))
  }

  rangesChanged (ranges) {
    const signature = (m) => [...m].map(([id, r]) => id + ':' + r.how).join(',')
    const changed = signature(ranges) !== signature(this.ranges)
    this.ranges = ranges
    if (changed && this.loaded) this.render()
  }

  setActive (id) {
    this.active = id
    if (this.view) this.view.dispatch(this.view.state.tr.setMeta(commentsKey, { active: id }).setMeta('addToHistory', false))
  }

  /** Bring a comment forward in the panel (from its highlight or the list of open comments). */
  activate (id, { scroll = false, focus = false } = {}) {
    const thread = this.thread(id)
    if (!thread) return
    this.setActive(id)
    if (!this.unit || this.unit.guid !== thread.unit) this.unit = { guid: thread.unit, label: thread.unit_label || '' }
    this.render()
    const item = this.listEl.querySelector('[data-comment-id="' + id + '"]')
    if (item) {
      if (scroll && item.scrollIntoView) item.scrollIntoView({ block: 'nearest' })
      if (focus) item.focus()
    }
  }

  /** Select a comment's range in the text (or go to its unit) and move there. */
  showInText (id) {
    const thread = this.thread(id)
    const view = this.view
    if (!thread || !view) return
    this.setActive(id)
    const range = this.ranges.get(id)
    let selection = null
    if (range && range.to !== undefined) {
      selection = TextSelection.create(view.state.doc, range.from, range.to)
    } else {
      const unit = unitPositions(view.state.doc).get(thread.unit)
      if (unit) selection = TextSelection.near(view.state.doc.resolve(unit.pos + 1))
    }
    if (selection) view.dispatch(view.state.tr.setSelection(selection).scrollIntoView())
    this.following = true
    view.focus()
    this.render()
  }

  // --- rendering ---

  visibleThreads () {
    const shown = []
    const here = this.unit ? this.unit.guid : null
    const selection = this.view ? this.view.state.selection : null
    for (const c of this.threads) {
      if (c.status === 'resolved' && !this.showResolved && c.id !== this.active) continue
      const range = this.ranges.get(c.id)
      const around = selection && range && range.to !== undefined && selection.from >= range.from && selection.from <= range.to
      if (c.unit === here || c.id === this.active || around) shown.push(c)
    }
    return shown
  }

  render () {
    const t = this.t
    this.renderUnitLabel()
    this.countEl.textContent = this.loaded ? t.openCount(this.open) : t.loading
    this.root.dataset.open = String(this.open)
    const open = this.threads.filter(c => c.status === 'open')
    this.fill(this.allEl, open, c => el('li', {}, el('button', {
      type: 'button', class: 'cmt-goto', dataset: { action: 'goto', id: String(c.id) }
    }, el('span', { class: 'cmt-goto-unit', text: c.unit_label || t.unitGone }), ' ',
    el('span', { class: 'cmt-goto-text', text: excerpt(c.anchor ? '«' + c.anchor.quote + '»' : c.body) }))), t.noneOpen)

    // Keep what is being typed in reply boxes, and the focus, across a refresh.
    const drafts = new Map()
    for (const box of this.listEl.querySelectorAll('textarea[data-thread]')) if (box.value) drafts.set(box.dataset.thread, box.value)
    const focused = this.listEl.contains(document.activeElement) ? document.activeElement : null
    const focusKey = focused ? focusKeyOf(focused) : null
    const caret = focused && focused.tagName === 'TEXTAREA' ? [focused.selectionStart, focused.selectionEnd] : null

    const shown = this.unit || this.active !== null ? this.visibleThreads() : []
    this.listHeading.textContent = this.unit ? t.hereOf(this.unit.label || t.preamble) : t.here
    this.fill(this.listEl, shown, c => this.renderThread(c), this.unit ? t.noneHere : t.hint)
    for (const box of this.listEl.querySelectorAll('textarea[data-thread]')) {
      if (drafts.has(box.dataset.thread)) box.value = drafts.get(box.dataset.thread)
    }
    if (focusKey) {
      const again = this.listEl.querySelector('[data-focus-key="' + focusKey + '"]')
      if (again) {
        again.focus()
        if (caret && again.setSelectionRange) again.setSelectionRange(caret[0], caret[1])
      }
    }
  }

  renderThread (c) {
    const t = this.t
    const range = this.ranges.get(c.id)
    const how = c.status === 'resolved' ? 'resolved' : (c.anchor ? (range ? range.how : 'pending') : 'unit')
    const parts = []
    if (c.anchor) {
      const quote = el('blockquote', { class: 'cmt-quote' }, el('span', { text: c.anchor.quote }))
      parts.push(quote)
      if (how === 'gone') {
        quote.classList.add('cmt-quote-gone')
        parts.push(el('p', { class: 'cmt-gone', text: t.gone }))
      } else if (how === 'quote') {
        parts.push(el('p', { class: 'cmt-note', text: t.foundByQuote }))
      }
    } else {
      parts.push(el('p', { class: 'cmt-whole', text: t.wholeUnit(c.unit_label || t.unitGone) }))
    }
    parts.push(el('p', { class: 'cmt-body' }, withMentions(c.body)))
    parts.push(el('p', { class: 'cmt-by', text: t.by(c.author || t.someone, this.date(c.created_at)) }))
    if (c.status === 'resolved') {
      parts.push(el('p', { class: 'cmt-state', text: t.resolvedBy(c.resolved_by || t.someone, this.date(c.resolved_at)) }))
    } else if (c.reopened_at) {
      parts.push(el('p', { class: 'cmt-state cmt-reopened', text: t.reopenedBy(c.reopened_by || t.someone, this.date(c.reopened_at)) }))
    }
    if (c.replies.length) {
      parts.push(el('ol', { class: 'cmt-replies', 'aria-label': t.repliesLabel(c.replies.length) }, c.replies.map(r =>
        el('li', { class: 'cmt-reply-item', dataset: { replyId: String(r.id) } },
          el('p', { class: 'cmt-body' }, withMentions(r.body)),
          el('p', { class: 'cmt-by', text: t.by(r.author || t.someone, this.date(r.created_at)) }),
          r.mine ? el('button', { type: 'button', class: 'cmt-delete', dataset: { action: 'delete', id: String(r.id), focusKey: 'del-' + r.id }, 'aria-label': t.deleteReply, text: t.delete }) : null))))
    }
    const replyId = 'cmt-reply-' + c.id
    parts.push(el('form', { class: 'cmt-reply', dataset: { id: String(c.id) } },
      el('label', { for: replyId, class: 'cmt-reply-label', text: t.replyLabel }),
      el('textarea', { id: replyId, name: 'body', rows: '2', maxlength: String(MAX_BODY), dataset: { thread: String(c.id), focusKey: 'reply-' + c.id } }),
      el('button', { type: 'submit', dataset: { focusKey: 'send-' + c.id }, text: t.reply })))
    const actions = el('div', { class: 'cmt-actions' })
    if (c.anchor && how !== 'gone' && how !== 'resolved' && how !== 'pending') {
      actions.append(el('button', { type: 'button', dataset: { action: 'show', id: String(c.id), focusKey: 'show-' + c.id }, text: t.showInText }))
    }
    if (c.status === 'open') actions.append(el('button', { type: 'button', class: 'cmt-resolve', dataset: { action: 'resolve', id: String(c.id), focusKey: 'resolve-' + c.id }, text: t.resolve }))
    else actions.append(el('button', { type: 'button', class: 'cmt-reopen', dataset: { action: 'reopen', id: String(c.id), focusKey: 'reopen-' + c.id }, text: t.reopen }))
    if (c.mine) actions.append(el('button', { type: 'button', class: 'cmt-delete', dataset: { action: 'delete', id: String(c.id), focusKey: 'del-' + c.id }, text: t.delete }))
    parts.push(actions)
    const item = el('li', {
      class: 'cmt-thread' + (c.status === 'resolved' ? ' cmt-resolved' : '') + (c.id === this.active ? ' cmt-active' : ''),
      tabindex: '-1',
      'aria-label': t.threadLabel(c.author || t.someone, c.status === 'resolved'),
      dataset: { commentId: String(c.id), anchor: how, focusKey: 'thread-' + c.id }
    }, parts)
    if (c.id === this.active) item.setAttribute('aria-current', 'true')
    return item
  }

  // --- mentions ---

  /** After publishing: what happened, and whom the @names notified (or could not). */
  sayMentions (done, mentions) {
    const notice = mentions && mentions.notice
    const trouble = !!(mentions && ((mentions.ambiguous || []).length || (mentions.unknown || []).length))
    this.say(notice ? done + ' ' + notice : done, trouble)
  }

  async complete (box) {
    if (this.people === null) {
      this.people = []
      try {
        const data = await this.api('/people')
        this.people = (data && data.people) || []
      } catch (_e) {
        this.people = []
      }
    }
    const at = mentionAt(box.value, box.selectionStart)
    const items = at ? matchingPeople(this.people.filter(p => !p.me), at.query) : []
    if (!items.length) { this.closeSuggest(); return }
    this.suggestFor = box
    this.suggestAt = at
    this.suggestItems = items
    this.suggest.replaceChildren(...items.map((p, i) => el('li', {
      id: 'cmt-suggest-' + i, role: 'option', class: 'cmt-suggest-item', dataset: { index: String(i) }, text: p.name
    })))
    if (box.nextElementSibling !== this.suggest) box.after(this.suggest)
    this.suggest.hidden = false
    box.setAttribute('aria-autocomplete', 'list')
    box.setAttribute('aria-controls', 'cmt-suggest')
    box.setAttribute('aria-expanded', 'true')
    this.highlight(0)
  }

  highlight (index) {
    this.suggestIndex = index
    this.suggest.querySelectorAll('[role=option]').forEach((li, i) => li.setAttribute('aria-selected', String(i === index)))
    if (this.suggestFor) this.suggestFor.setAttribute('aria-activedescendant', 'cmt-suggest-' + index)
  }

  choose (index) {
    const box = this.suggestFor
    const person = this.suggestItems[index]
    if (!box || !person) return
    const text = mentionText(person.name)
    const end = box.selectionStart
    box.value = box.value.slice(0, this.suggestAt.start) + text + box.value.slice(end)
    const caret = this.suggestAt.start + text.length
    box.focus()
    box.setSelectionRange(caret, caret)
    this.closeSuggest()
  }

  closeSuggest () {
    const box = this.suggestFor
    if (box) {
      box.setAttribute('aria-expanded', 'false')
      box.removeAttribute('aria-activedescendant')
    }
    this.suggestFor = null
    this.suggest.hidden = true
  }

  // --- actions ---

  /** "Comment on selection": the selected words (or, with no selection, the unit at the cursor). */
  startComment () {
    const t = this.t
    const view = this.view
    if (!view) return
    const state = view.state
    const { from, to, $from } = state.selection
    let pending = null
    const quote = from < to ? state.doc.textBetween(from, to, '\n').trim() : ''
    if (quote) {
      const depth = $from.sharedDepth(to)
      let unitNode = null
      let unitDepth = 0
      for (let d = depth; d >= 1; d--) {
        if (isUnitType($from.node(d).type)) { unitNode = $from.node(d); unitDepth = d; break }
      }
      if (!unitNode || !unitNode.attrs.guid) { this.say(t.oneUnit, true); return }
      if (quote.length > MAX_QUOTE) { this.say(t.tooLong(MAX_QUOTE), true); return }
      const anchor = anchorRange(state, from, to)
      if (!anchor) { this.say(t.notReady, true); return }
      const info = this.unitAt ? this.unitAt(state.doc.resolve($from.before(unitDepth) + 1)) : null
      pending = { unit: unitNode.attrs.guid, label: (info && info.label) || '', quote, ...anchor }
    } else {
      const info = this.unitAt ? this.unitAt($from) : null
      if (!info || !info.guid) { this.say(t.pickUnit, true); return }
      pending = { unit: info.guid, label: info.label || '' }
    }
    this.pending = pending
    this.following = true
    this.setUnit({ guid: pending.unit, label: pending.label })
    this.say('')
    this.targetEl.replaceChildren(...(pending.quote
      ? [el('span', { class: 'cmt-target-label', text: t.on(pending.label || t.preamble) }), el('q', { text: pending.quote })]
      : [el('span', { class: 'cmt-target-label', text: t.wholeUnit(pending.label || t.preamble) })]))
    this.form.hidden = false
    this.sayInForm('')
    this.redraw()
    this.textarea.focus()
  }

  cancel () {
    this.pending = null
    this.form.hidden = true
    this.textarea.value = ''
    this.redraw()
    this.newButton.focus()
  }

  async submit () {
    const t = this.t
    const pending = this.pending
    if (!pending) return
    const body = this.textarea.value.trim()
    if (!body) {
      this.sayInForm(t.empty, true)
      this.textarea.setAttribute('aria-invalid', 'true')
      this.textarea.focus()
      return
    }
    const button = this.form.querySelector('button[type=submit]')
    button.disabled = true
    try {
      const payload = { unit: pending.unit, body }
      if (pending.quote) payload.anchor = { start: pending.start, end: pending.end, quote: pending.quote }
      const result = await this.api('', 'POST', payload)
      this.textarea.removeAttribute('aria-invalid')
      this.textarea.value = ''
      this.pending = null
      this.form.hidden = true
      this.sayMentions(t.published, result.mentions)
      this.active = result.comment.id
      await this.refresh()
      this.activate(result.comment.id, { scroll: true, focus: true })
    } catch (error) {
      this.sayInForm(this.failure(error), true)
    } finally {
      button.disabled = false
    }
  }

  async reply (form) {
    const t = this.t
    const box = form.querySelector('textarea')
    const body = box.value.trim()
    if (!body) {
      this.say(t.emptyReply, true)
      box.setAttribute('aria-invalid', 'true')
      box.focus()
      return
    }
    const button = form.querySelector('button[type=submit]')
    button.disabled = true
    try {
      const result = await this.api('/' + form.dataset.id + '/replies', 'POST', { body })
      box.value = ''
      box.removeAttribute('aria-invalid')
      this.sayMentions(t.replied, result && result.mentions)
      await this.refresh()
    } catch (error) {
      this.say(this.failure(error), true)
      button.disabled = false
    }
  }

  async act (button) {
    const t = this.t
    const d = button.dataset
    const id = d.id ? Number(d.id) : null
    if (d.action === 'new') { this.startComment(); return }
    if (d.action === 'cancel') { this.cancel(); return }
    if (d.action === 'show') { this.showInText(id); return }
    if (d.action === 'goto') {
      this.all.open = false
      const range = this.ranges.get(id)
      if (range && range.to !== undefined) this.showInText(id)
      else this.activate(id, { scroll: true, focus: true })
      return
    }
    button.disabled = true
    try {
      if (d.action === 'resolve') {
        await this.api('/' + id + '/resolve', 'POST', {})
        this.say(t.resolved)
      } else if (d.action === 'reopen') {
        await this.api('/' + id + '/reopen', 'POST', {})
        this.say(t.reopened)
      } else if (d.action === 'delete') {
        await this.api('/' + id, 'DELETE')
        if (this.active === id) this.setActive(null)
        this.say(t.deleted)
      }
    } catch (error) {
      this.say(this.failure(error), true)
      button.disabled = false
      return
    }
    await this.refresh()
    // Keep the keyboard where it was: on the thread whose state just changed.
    const item = id !== null && this.listEl.querySelector('[data-comment-id="' + id + '"]')
    if (item) item.focus()
    else this.listHeading.focus()
  }
}

function focusKeyOf (node) {
  const owner = node.closest('[data-focus-key]')
  return owner ? owner.dataset.focusKey : null
}

function excerpt (text) {
  const s = String(text || '').replace(/\s+/g, ' ').trim()
  return s.length > 80 ? s.slice(0, 79) + '…' : s
}

// --- mentions -------------------------------------------------------------------------------------

// `@"Whole Name"` or `@Name` (not inside an e-mail address), as the server reads them
// (editor.notifications.service); trailing punctuation is not part of the name.
const MENTION = /(?<![\p{L}\p{N}_@])@(?:"[^"\n]{1,120}"|[\p{L}\p{N}][\p{L}\p{N}_'’.-]*)/gu

/** A comment's text as nodes, its @mentions highlighted. */
export function withMentions (text) {
  const nodes = []
  let last = 0
  for (const m of String(text || '').matchAll(MENTION)) {
    const word = m[0].replace(/[.'’-]+$/, '')
    if (m.index > last) nodes.push(text.slice(last, m.index))
    nodes.push(el('span', { class: 'cmt-mention', text: word }))
    last = m.index + word.length
  }
  if (last < String(text || '').length) nodes.push(text.slice(last))
  return nodes
}

/** The @name being typed just before the caret of a text box (null if none): {start, query}. */
export function mentionAt (value, caret) {
  const before = value.slice(0, caret)
  const m = /(?:^|[^\p{L}\p{N}_@])@("?)([^\s@"]{0,40}(?: [^\s@"]{0,40}){0,2})$/u.exec(before)
  if (!m) return null
  if (!m[1] && m[2].includes(' ')) return null // unquoted: one word
  return { start: before.length - m[2].length - m[1].length - 1, query: m[2] }
}

function fold (s) {
  return String(s || '').normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase()
}

/** What to insert for a person: @Name, or @"Whole Name" when the name has spaces. */
export function mentionText (name) {
  return /\s/.test(name) ? '@"' + name + '" ' : '@' + name + ' '
}

/** Names that fit what was typed: by the start of any of their words, accents and case aside. */
export function matchingPeople (people, query, limit = 8) {
  const q = fold(query).trim()
  return people.filter(p => !q || fold(p.name).split(/\s+/).some((w, i, ws) => ws.slice(i).join(' ').startsWith(q))).slice(0, limit)
}
