// The suggestions panel (issue 22): every pending suggestion of the live text with its author and
// time, and (for those who decide) accept and reject, one by one or all of one person's. Deciding
// is the server's (editor/suggestions); what a suggestion is, is suggest.js's. Each suggestion has
// its notes (editor/suggestions/notes.py): a disclosure that lists them and takes a new one.
import { el, requestJSON } from './panel.js'
import { suggestionsIn, describePart } from './suggest.js'
import { withMentions } from './comments.js'

// The longest note the server takes (editor/suggestions/models.py MAX_NOTE).
const MAX_NOTE = 2000

function when (iso, lang) {
  const d = new Date(iso)
  if (isNaN(d)) return ''
  return d.toLocaleString(lang === 'en' ? 'en-GB' : 'es-MX', { dateStyle: 'short', timeStyle: 'short' })
}

// The suggestions panel: every pending suggestion with its author and time, and (for those who
// decide) accept and reject, one by one or all of one person's. Deciding is the server's.
export class SuggestionsPanel {
  constructor (root, { slug, csrf, lang, t, canDecide }) {
    this.root = root
    this.slug = slug
    this.csrf = csrf
    this.lang = lang
    this.t = t
    this.canDecide = canDecide
    this.view = null
    this.timer = null
    this.signature = null
    // Notes: each suggestion's disclosure (kept across renders, with what is typed in it), the
    // number of notes of each suggestion (from the listing), and which ids those counts are of.
    this.notes = new Map()
    this.counts = {}
    this.countedIds = null
    this.opened = false // the suggestion named in the address (?suggestion=…) was opened
    this.wanted = new URLSearchParams(window.location.search).get('suggestion')
    this.status = el('p', { class: 'suggestions-status', role: 'status', 'aria-live': 'polite' })
    this.list = el('ul', { class: 'suggestions-list' })
    this.authors = el('div', { class: 'suggestions-authors' })
    // For a role that may only suggest: why its changes are suggestions.
    this.note = el('p', { class: 'suggestions-note' })
    root.replaceChildren(el('h2', { id: 'suggestions-title' }, t.title), this.note, this.authors, this.list, this.status)
    root.setAttribute('aria-labelledby', 'suggestions-title')
  }

  attach (view) {
    this.view = view
    this.render()
  }

  schedule () {
    if (this.timer !== null) return
    this.timer = setTimeout(() => { this.timer = null; this.render() }, 150)
  }

  setCanDecide (canDecide) {
    if (canDecide === this.canDecide) return
    this.canDecide = canDecide
    this.signature = null
    this.render()
  }

  render () {
    if (!this.view) return
    const t = this.t
    this.note.textContent = this.canDecide ? '' : t.onlySuggest
    this.note.hidden = this.canDecide
    const all = suggestionsIn(this.view.state.doc)
    const signature = JSON.stringify(all.map(s => [s.id, s.parts, s.name]))
    if (signature === this.signature) return
    this.signature = signature
    this.root.dataset.count = String(all.length)
    this.refreshCounts(all.map(s => s.id))
    // What has the focus in a note's box (its text box, mid-sentence) keeps it across the render.
    const active = this.list.contains(document.activeElement) ? document.activeElement : null
    const caret = active && active.tagName === 'TEXTAREA' ? [active.selectionStart, active.selectionEnd] : null
    const ids = new Set(all.map(s => s.id))
    for (const id of [...this.notes.keys()]) if (!ids.has(id)) this.notes.delete(id)
    if (!all.length) {
      this.list.replaceChildren(el('li', { class: 'suggestions-empty' }, t.none))
      this.authors.replaceChildren()
      return
    }
    this.list.replaceChildren(...all.map(s => {
      const parts = s.parts.map(p => {
        const shown = describePart(p, t)
        return el(shown.tag, { class: 'suggestion-quote suggestion-quote-' + p.kind }, shown.text)
      })
      const item = el('li', { class: 'suggestion-item', 'data-suggestion': s.id, 'data-by': s.by },
        el('p', { class: 'suggestion-what' }, ...parts),
        el('p', { class: 'suggestion-who' }, s.name || t.anonymous, ' · ', when(s.at, this.lang)))
      if (this.canDecide) {
        item.append(el('p', { class: 'suggestion-actions' },
          this.action(t.accept, t.acceptLabel(s.name), 'accept', s.id),
          this.action(t.reject, t.rejectLabel(s.name), 'reject', s.id)))
      }
      item.append(this.notesOf(s).details)
      return item
    }))
    if (active && active.isConnected) {
      active.focus()
      if (caret) active.setSelectionRange(caret[0], caret[1])
    }
    this.openWanted(all)
    const people = new Map()
    for (const s of all) if (s.by) people.set(s.by, s.name)
    this.authors.replaceChildren(...(this.canDecide
      ? [...people].map(([by, name]) => el('p', { class: 'suggestions-author', 'data-by': by },
          this.action(t.acceptAll(name), t.acceptAll(name), 'accept', null, by),
          this.action(t.rejectAll(name), t.rejectAll(name), 'reject', null, by)))
      : []))
  }

  action (text, label, decision, id, by = null) {
    const b = el('button', { type: 'button', class: 'button suggestion-' + decision, 'data-decision': decision, 'aria-label': label }, text)
    b.addEventListener('click', () => this.decide(decision, id, by, b))
    return b
  }

  async decide (decision, id, by, button) {
    const url = '/api/v1/documents/' + encodeURIComponent(this.slug) + '/suggestions/decide'
    const body = by ? { decision, author: Number(by) } : { decision, suggestion: id }
    button.disabled = true
    this.status.textContent = this.t.working
    try {
      await requestJSON(url, { method: 'POST', body, csrf: this.csrf })
      this.status.textContent = decision === 'accept' ? this.t.accepted : this.t.rejected
    } catch (e) {
      this.status.textContent = this.t.failed + (e && e.message ? ': ' + e.message : '')
    } finally {
      button.disabled = false
    }
  }

  // --- notes ------------------------------------------------------------------------------------

  notesUrl (id) {
    return '/api/v1/documents/' + encodeURIComponent(this.slug) + '/suggestions/' + encodeURIComponent(id) + '/notes'
  }

  /** The disclosure of a suggestion's notes: made once per suggestion, kept across renders. */
  notesOf (s) {
    let box = this.notes.get(s.id)
    if (box) {
      box.name = s.name
      box.list.setAttribute('aria-label', this.t.notesOf(s.name || this.t.anonymous))
      return box
    }
    const t = this.t
    const key = 'sn-' + String(s.id).replace(/[^A-Za-z0-9_-]/g, '_')
    const summary = el('summary', { class: 'suggestion-notes-summary' })
    const list = el('ol', { class: 'suggestion-notes-list', 'aria-label': t.notesOf(s.name || t.anonymous) })
    const field = el('textarea', {
      id: key + '-text', class: 'suggestion-note-text', rows: 2, maxlength: MAX_NOTE, 'aria-describedby': key + '-hint'
    })
    const add = el('button', { type: 'button', class: 'button suggestion-note-add' }, t.addNote)
    // What came of the last note written here (the panel's status says it too, at its foot).
    const result = el('p', { class: 'suggestion-note-result' })
    const details = el('details', { class: 'suggestion-notes', 'data-suggestion': s.id },
      summary, list,
      el('div', { class: 'suggestion-note-form' },
        el('label', { for: key + '-text' }, t.noteLabel),
        field,
        el('p', { class: 'suggestion-note-hint', id: key + '-hint' }, t.noteHint),
        add, result))
    box = { id: s.id, name: s.name, details, summary, list, field, add, result, loaded: false, loading: null }
    this.notes.set(s.id, box)
    this.showCount(box)
    details.addEventListener('toggle', () => { if (details.open) this.loadNotes(box) })
    add.addEventListener('click', () => this.addNote(box))
    field.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault()
        this.addNote(box)
      }
    })
    return box
  }

  showCount (box) {
    const n = this.counts[box.id] || 0
    box.summary.textContent = this.t.notes(n)
    box.details.dataset.notes = String(n)
  }

  /** The number of notes of each suggestion: one request (the listing), when the panel is drawn
   * for other suggestions, or again after a while (not at every keystroke of a suggestion). */
  async refreshCounts (ids) {
    const key = JSON.stringify([...ids].sort())
    if (!ids.length || key === this.countedIds) return // a new note resets it (notesChanged)
    this.countedIds = key
    try {
      const data = await requestJSON('/api/v1/documents/' + encodeURIComponent(this.slug) + '/suggestions?notes=' +
        encodeURIComponent([...ids].sort().join(',')))
      if (key !== this.countedIds) return
      this.counts = (data && data.notes) || {}
      for (const box of this.notes.values()) this.showCount(box)
    } catch (_e) {
      this.countedIds = null // try again at the next change
    }
  }

  noteItem (note) {
    return el('li', { class: 'suggestion-note', 'data-note': note.id },
      el('p', { class: 'suggestion-note-who' }, note.author || this.t.anonymous, ' · ', when(note.created_at, this.lang)),
      el('p', { class: 'suggestion-note-body' }, ...withMentions(note.body)))
  }

  drawNotes (box, notes) {
    this.counts[box.id] = notes.length
    this.showCount(box)
    box.list.replaceChildren(...(notes.length
      ? notes.map(n => this.noteItem(n))
      : [el('li', { class: 'suggestion-notes-empty' }, this.t.noNotes)]))
  }

  /** The notes of a suggestion, read each time its disclosure is opened. */
  async loadNotes (box) {
    if (box.loading) return box.loading
    if (!box.loaded) box.list.replaceChildren(el('li', { class: 'suggestion-notes-empty' }, this.t.notesLoading))
    box.loading = (async () => {
      try {
        const data = await requestJSON(this.notesUrl(box.id))
        box.loaded = true
        this.drawNotes(box, (data && data.notes) || [])
      } catch (e) {
        box.list.replaceChildren(el('li', { class: 'suggestion-notes-empty' },
          this.t.notesFailed + (e && e.message ? ': ' + e.message : '')))
      } finally {
        box.loading = null
      }
    })()
    return box.loading
  }

  async addNote (box) {
    const t = this.t
    const body = box.field.value.trim()
    if (!body) {
      this.status.textContent = box.result.textContent = t.noteEmpty
      box.field.focus()
      return
    }
    box.add.disabled = true
    this.status.textContent = t.noteAdding
    try {
      const data = await requestJSON(this.notesUrl(box.id), { method: 'POST', body: { body }, csrf: this.csrf })
      box.field.value = ''
      if (!box.loaded) await this.loadNotes(box)
      else if (!box.list.querySelector('[data-note="' + data.note.id + '"]')) {
        const shown = [...box.list.querySelectorAll('.suggestion-note')].length
        if (!shown) box.list.replaceChildren()
        box.list.append(this.noteItem(data.note))
        this.counts[box.id] = Math.max(shown + 1, data.count || 0)
        this.showCount(box)
      }
      const notice = data.mentions && data.mentions.notice
      this.status.textContent = box.result.textContent = t.noteAdded + (notice ? ' ' + notice : '')
    } catch (e) {
      this.status.textContent = box.result.textContent = t.noteFailed + (e && e.message ? ': ' + e.message : '')
    } finally {
      box.add.disabled = false
      box.field.focus()
    }
  }

  /** Someone wrote a note (for a live panel event, once the editor wires one; until then the notes are read when opened):
   * the counts are read again, and the notes of the open disclosures. */
  notesChanged () {
    this.countedIds = null
    if (this.view) this.refreshCounts(suggestionsIn(this.view.state.doc).map(s => s.id))
    for (const box of this.notes.values()) if (box.details.open) this.loadNotes(box)
  }

  /** A notification's link (/d/<slug>/edit?suggestion=<id>) opens that suggestion's notes once,
   * with its unit in view. */
  openWanted (all) {
    if (this.opened || !this.wanted) return
    const s = all.find(x => x.id === this.wanted)
    const box = s && this.notes.get(s.id)
    if (!box) return
    this.opened = true
    box.details.open = true
    if (s.unit && this.view) {
      const unit = this.view.dom.querySelector('[data-guid="' + CSS.escape(s.unit) + '"]')
      if (unit) unit.scrollIntoView({ block: 'center' })
    }
    box.details.scrollIntoView({ block: 'nearest' })
    box.summary.focus({ preventScroll: true })
  }
}
