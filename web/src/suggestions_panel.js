// The suggestions panel (issue 22): every pending suggestion of the live text with its author and
// time, and (for those who decide) accept and reject, one by one or all of one person's. Deciding
// is the server's (editor/suggestions); what a suggestion is, is suggest.js's.
import { el, requestJSON } from './panel.js'
import { suggestionsIn, describePart } from './suggest.js'

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
      return item
    }))
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
}
