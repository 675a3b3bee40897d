// "Why this clause exists" (#provenance): the links of the unit at the cursor to petitions,
// survey themes and citizen events; for editors, a form to add links, ranked suggestions to
// confirm or reject, and what to do with links whose unit was split, merged or deleted.
// Data: the JSON API under /api/v1/documents/<slug>/…; live: the `provenance` socket event.
import { Panel, el } from './panel.js'

const KINDS = ['petition', 'theme', 'event']
const RELATIONS = ['motivated', 'incorporates', 'addresses', 'related']
const UNIT_DEBOUNCE_MS = 250
const SEARCH_DEBOUNCE_MS = 200
const DOC_DEBOUNCE_MS = 1200

// Links to sources go to this site's own pages only ("/d/…"), never to another scheme or host.
function sitePath (p) {
  return typeof p === 'string' && /^\/(?![/\\])/.test(p)
}

function joinLabels (places) {
  return places.map(p => p.label || p.eId).filter(Boolean).join(', ')
}

export class ProvenancePanel extends Panel {
  /**
   * @param {HTMLElement} root  the #provenance aside (its h2 is kept)
   * @param {{slug: string, csrf: string, role: string, lang: string, t: object, base?: string}} opts
   */
  constructor (root, opts) {
    super(root, opts, { strings: 'prov', prefix: 'prov', headingId: 'provenance-title' })
    this.role = opts.role === 'editor' ? 'editor' : 'viewer'
    this.data = null // last GET …/links answer
    this.structure = null
    this.searchSeq = 0
    this.options = []
    this.active = -1
    this.chosen = null // {kind, id, title}
    this.build()
    this.setRole(this.role)
    this.loadAttention()
  }

  // --- skeleton (built once: typing in the form survives refreshes) ---

  build () {
    const t = this.t
    this.warningsEl = el('div', { class: 'prov-warnings' })
    this.linksHeading = el('h3', { id: 'prov-links-h', tabindex: '-1', text: t.links })
    this.linksEl = el('ul', { class: 'prov-links', 'aria-labelledby': 'prov-links-h' })
    this.linksSection = el('section', { class: 'prov-section', hidden: true }, this.linksHeading, this.linksEl)
    this.arrivalsEl = el('div', { class: 'prov-arrivals' })

    // the add form (editors)
    const kindSelect = el('select', { id: 'prov-kind', name: 'kind' },
      el('option', { value: '', text: t.kindAll }),
      KINDS.map(k => el('option', { value: k, text: t.kinds[k] })))
    const input = el('input', {
      id: 'prov-source', name: 'source', type: 'text', role: 'combobox', autocomplete: 'off', spellcheck: 'false',
      'aria-autocomplete': 'list', 'aria-expanded': 'false', 'aria-controls': 'prov-source-list',
      placeholder: t.sourcePlaceholder
    })
    const list = el('ul', { id: 'prov-source-list', role: 'listbox', 'aria-label': t.sourceList, hidden: true })
    const relation = el('select', { id: 'prov-relation', name: 'relation' },
      RELATIONS.map(r => el('option', { value: r, text: t.relations[r] })))
    const note = el('textarea', { id: 'prov-note', name: 'note', rows: '2', maxlength: '2000' })
    this.formStatus = el('p', { class: 'prov-form-status', role: 'status', 'aria-live': 'polite' })
    this.form = el('form', { class: 'prov-add', 'aria-labelledby': 'prov-add-h', novalidate: true },
      el('h3', { id: 'prov-add-h', text: t.addTitle }),
      el('div', { class: 'prov-field' }, el('label', { for: 'prov-kind', text: t.kind }), kindSelect),
      el('div', { class: 'prov-field prov-combo' }, el('label', { for: 'prov-source', text: t.source }), input, list),
      el('div', { class: 'prov-field' }, el('label', { for: 'prov-relation', text: t.relationLabel }), relation),
      el('div', { class: 'prov-field' }, el('label', { for: 'prov-note', text: t.note }), note),
      el('button', { type: 'submit', class: 'prov-submit', text: t.submit }),
      this.formStatus)
    this.kindSelect = kindSelect
    this.input = input
    this.list = list
    this.relation = relation
    this.note = note

    this.suggestHeading = el('h3', { id: 'prov-sugg-h', text: t.suggestions })
    this.suggestEl = el('ul', { class: 'prov-suggestions', 'aria-labelledby': 'prov-sugg-h' })
    this.suggestSection = el('section', { class: 'prov-section prov-suggest', hidden: true }, this.suggestHeading, this.suggestEl)
    this.editorPart = el('div', { class: 'prov-editor-part', hidden: true }, this.form, this.suggestSection)

    this.attentionSummary = el('summary')
    this.attentionList = el('ul', { class: 'prov-attention-list' })
    this.attention = el('details', { class: 'prov-attention', hidden: true }, this.attentionSummary, this.attentionList)

    this.assemble(this.unitEl, this.status, this.warningsEl, this.linksSection, this.arrivalsEl,
      this.editorPart, this.attention)

    // events
    this.form.addEventListener('submit', (e) => { e.preventDefault(); this.submit() })
    input.addEventListener('input', () => {
      if (this.chosen && input.value !== this.chosen.title) this.chosen = null
      this.scheduleSearch()
    })
    input.addEventListener('focus', () => { if (!this.chosen) this.scheduleSearch() })
    input.addEventListener('keydown', (e) => this.comboKey(e))
    input.addEventListener('blur', () => setTimeout(() => { if (!this.list.contains(document.activeElement)) this.closeList() }, 150))
    kindSelect.addEventListener('change', () => { this.chosen = null; this.input.value = ''; this.scheduleSearch() })
    list.addEventListener('mousedown', (e) => e.preventDefault()) // keep focus in the input
    list.addEventListener('click', (e) => {
      const option = e.target.closest('[role=option]')
      if (option) this.choose(Number(option.dataset.index))
    })
  }

  setRole (role) {
    this.role = role === 'editor' ? 'editor' : 'viewer'
    this.root.dataset.mode = this.role
    this.editorPart.hidden = this.role !== 'editor' || !this.unit
    if (this.data) this.render()
  }

  get canEdit () { return this.role === 'editor' && (!this.data || this.data.can_edit !== false) }

  // --- following the cursor and the server ---

  /** The unit at the cursor changed ({guid, label} or null). */
  setUnit (unit) {
    const guid = unit && unit.guid ? unit.guid : null
    if (guid === (this.unit && this.unit.guid)) {
      if (unit && this.unit && unit.label !== this.unit.label) { this.unit.label = unit.label; this.renderUnitLabel() }
      return
    }
    this.unit = guid ? { guid, label: unit.label || '' } : null
    this.renderUnitLabel()
    this.loading(true)
    this.debounce('unit', UNIT_DEBOUNCE_MS, () => this.refresh())
  }

  /** Someone changed a link of this document (the `provenance` socket event). */
  changed () {
    this.refresh()
    this.loadAttention()
  }

  /** The text changed: a split or merge may have changed what links point at.
   * `structure()` gives a signature of the unit tree (computed once the typing pauses). */
  docChanged (structure) {
    this.debounce('doc', DOC_DEBOUNCE_MS, () => {
      const signature = structure()
      const structural = this.structure !== null && signature !== this.structure
      this.structure = signature
      const involved = this.data && ((this.data.links || []).length || (this.data.arrivals || []).length)
      if (structural || involved) {
        this.refresh({ suggestions: structural })
        this.loadAttention()
      }
    })
  }

  /** While the unit's links are on their way, what is shown belongs to another unit: dim it. */
  loading (on) {
    this.root.dataset.state = on ? 'loading' : 'ready'
    this.root.classList.toggle('prov-stale', !!on)
    if (on) this.root.setAttribute('aria-busy', 'true')
    else this.root.removeAttribute('aria-busy')
  }

  async refresh ({ suggestions = true } = {}) {
    const unit = this.unit
    const current = this.latest()
    if (!unit) {
      this.data = null
      this.render()
      this.loading(false)
      return
    }
    if (this.data && this.data.unit && this.data.unit.guid !== unit.guid) this.loading(true)
    try {
      const guid = encodeURIComponent(unit.guid)
      const sameUnit = this.data && this.data.unit && this.data.unit.guid === unit.guid
      const wantSuggestions = this.role === 'editor' && (suggestions || !sameUnit)
      const [data, found] = await Promise.all([
        this.api('/units/' + guid + '/links'),
        wantSuggestions ? this.api('/units/' + guid + '/suggestions?limit=5').catch(() => null) : Promise.resolve(undefined)
      ])
      if (!current()) return
      this.data = data
      if (found !== undefined) this.suggestions = found ? found.suggestions : []
      this.render()
    } catch (error) {
      if (!current()) return
      if (error.status === 404) { // a unit just created, not yet on the server: try again shortly
        this.data = { links: [], arrivals: [], can_edit: this.role === 'editor' }
        this.suggestions = []
        this.render()
        return
      }
      this.say(this.failure(error, this.t.loadFailed), true)
    } finally {
      if (current()) {
        this.root.dataset.unit = unit.guid
        this.loading(false)
      }
    }
  }

  async loadAttention () {
    try {
      const data = await this.api('/links/health')
      this.renderAttention(data.links || [])
    } catch (_e) {
      this.attention.hidden = true
    }
  }

  // --- rendering ---

  render () {
    const t = this.t
    this.renderUnitLabel()
    const data = this.data
    this.editorPart.hidden = !(this.canEdit && this.unit)
    if (!this.unit || !data) {
      this.linksSection.hidden = true
      this.warningsEl.replaceChildren()
      this.arrivalsEl.replaceChildren()
      return
    }
    if (data.unit && data.unit.label && !this.unit.label) { this.unit.label = data.unit.label; this.renderUnitLabel() }
    this.linksSection.hidden = false
    const links = data.links || []
    this.fill(this.linksEl, links, link => this.renderLink(link), t.noLinks)
    this.warningsEl.replaceChildren()

    const arrivals = data.arrivals || []
    this.arrivalsEl.replaceChildren(...(arrivals.length
      ? [el('section', { class: 'prov-section prov-arrival', 'aria-labelledby': 'prov-arr-h' },
          el('h3', { id: 'prov-arr-h', text: t.arrivalsTitle }),
          el('ul', {}, arrivals.map(link => this.renderArrival(link))))]
      : []))

    if (this.canEdit) this.renderSuggestions()
  }

  sourceTitle (source) {
    return (source && source.title) || (source ? source.kind + ' ' + source.id : '')
  }

  sourceMeta (source) {
    const t = this.t
    const fmt = (n) => Number(n).toLocaleString(this.lang === 'en' ? 'en' : 'es-MX')
    if (!source) return ''
    if (source.kind === 'petition') {
      const parts = []
      if (source.petitioners) parts.push(source.petitioners)
      if (source.signatures !== null && source.signatures !== undefined) parts.push(t.signatures(fmt(source.signatures)))
      return parts.join(' · ')
    }
    if (source.kind === 'theme') {
      return source.respondents === null || source.respondents === undefined ? '' : t.respondents(fmt(source.respondents))
    }
    if (source.kind === 'event') {
      return [this.date(source.held_on), source.place].filter(Boolean).join(' · ')
    }
    return ''
  }

  date (iso) {
    if (!iso) return ''
    const d = new Date(iso.length === 10 ? iso + 'T12:00:00' : iso)
    if (Number.isNaN(d.getTime())) return iso
    return d.toLocaleDateString(this.lang === 'en' ? 'en-GB' : 'es-MX', { year: 'numeric', month: 'short', day: 'numeric' })
  }

  renderSource (source) {
    const t = this.t
    const title = this.sourceTitle(source)
    const meta = this.sourceMeta(source)
    return [
      el('span', { class: 'prov-kind prov-kind-' + (source.kind || ''), text: t.kinds[source.kind] || source.kind }),
      ' ',
      sitePath(source.page) ? el('a', { class: 'prov-source-title', href: source.page, text: title }) : el('span', { class: 'prov-source-title', text: title }),
      meta ? el('span', { class: 'prov-meta', text: meta }) : null
    ]
  }

  renderLink (link) {
    const t = this.t
    const title = this.sourceTitle(link.source)
    const origin = t.origin[link.origin] || ''
    const item = el('li', { class: 'prov-link', dataset: { linkId: String(link.id), kind: link.source.kind } },
      el('div', { class: 'prov-link-source' }, this.renderSource(link.source)),
      el('div', { class: 'prov-relation' }, el('span', { class: 'prov-relation-name', text: t.relations[link.relation] || link.relation }),
        origin ? el('span', { class: 'prov-origin', text: ' · ' + origin }) : null),
      link.note ? el('p', { class: 'prov-note', text: link.note }) : null,
      el('p', { class: 'prov-by', text: t.by(link.author || '', this.date(link.created_at)) }))
    const health = link.health
    if (health && health.status === 'changed') {
      const warn = el('div', { class: 'prov-warning', role: 'note' },
        el('p', { text: t.changed(joinLabels(health.now_in || [])) }))
      if (this.canEdit) {
        const actions = el('div', { class: 'prov-actions' })
        for (const place of health.now_in || []) {
          actions.append(el('button', {
            type: 'button', dataset: { action: 'copy', link: String(link.id), unit: place.guid, label: place.label || place.eId },
            'aria-label': t.copyTo(place.label || place.eId, title), text: t.copyToShort(place.label || place.eId)
          }))
        }
        actions.append(el('button', {
          type: 'button', dataset: { action: 'keep', link: String(link.id) }, 'aria-label': t.keepLabel(title), text: t.keep
        }))
        warn.append(actions)
      }
      item.append(warn)
    }
    if (this.canEdit) {
      item.append(el('button', {
        type: 'button', class: 'prov-remove', dataset: { action: 'remove', link: String(link.id), title },
        'aria-label': t.removeLabel(title), text: t.remove
      }))
    }
    return item
  }

  renderArrival (link) {
    const t = this.t
    const title = this.sourceTitle(link.source)
    const gone = link.health && link.health.status === 'gone'
    const was = gone ? (link.linked_as || '') : (link.unit_label || link.linked_as || '')
    const item = el('li', { class: 'prov-warning', dataset: { linkId: String(link.id) } },
      el('p', { text: gone ? t.arrivalGone(was, title) : t.arrivalSplit(was, title) }))
    if (this.canEdit && this.unit) {
      item.append(el('div', { class: 'prov-actions' }, el('button', {
        type: 'button', dataset: { action: gone ? 'move' : 'copy', link: String(link.id), unit: this.unit.guid, label: this.unit.label },
        text: gone ? t.moveHere : t.copyHere
      })))
    }
    return item
  }

  renderSuggestions () {
    const t = this.t
    const found = this.suggestions || []
    this.suggestSection.hidden = false
    this.fill(this.suggestEl, found, s => {
      const title = this.sourceTitle(s)
      return el('li', { class: 'prov-suggestion', dataset: { kind: s.kind, id: String(s.id) } },
        el('div', { class: 'prov-link-source' }, this.renderSource(s),
          el('span', { class: 'prov-score', text: t.match(Math.round((s.score || 0) * 100)) })),
        el('div', { class: 'prov-actions' },
          el('button', { type: 'button', dataset: { action: 'confirm', kind: s.kind, id: String(s.id), title }, 'aria-label': t.confirmLabel(title), text: t.confirm }),
          el('button', { type: 'button', dataset: { action: 'reject', kind: s.kind, id: String(s.id), title }, 'aria-label': t.rejectLabel(title), text: t.reject })))
    }, t.noSuggestions)
  }

  renderAttention (links) {
    const t = this.t
    if (!links.length) {
      this.attention.hidden = true
      this.attentionList.replaceChildren()
      return
    }
    this.attention.hidden = false
    this.attentionSummary.textContent = t.attention(links.length)
    this.attentionList.replaceChildren(...links.map(link => {
      const title = this.sourceTitle(link.source)
      const gone = link.health.status === 'gone'
      const places = link.health.now_in || []
      const item = el('li', { class: 'prov-attention-item', dataset: { linkId: String(link.id), status: link.health.status } },
        el('p', { text: gone ? t.attentionGone(link.linked_as || '', title) : t.attentionChanged(link.unit_label || link.linked_as || '', title) }),
        el('p', { class: 'prov-meta', text: places.length ? t.nowIn(joinLabels(places)) : (gone ? t.nowhere : '') }))
      if (this.canEdit) {
        const actions = el('div', { class: 'prov-actions' })
        for (const place of places) {
          const label = place.label || place.eId
          actions.append(el('button', {
            type: 'button', dataset: { action: gone ? 'move' : 'copy', link: String(link.id), unit: place.guid, label },
            'aria-label': gone ? t.moveTo(label) + ' (' + title + ')' : t.copyTo(label, title),
            text: gone ? t.moveTo(label) : t.copyToShort(label)
          }))
        }
        if (gone) actions.append(el('button', { type: 'button', dataset: { action: 'remove', link: String(link.id), title }, 'aria-label': t.removeLabel(title), text: t.removeLink }))
        else {
          const label = link.unit_label || link.linked_as || ''
          actions.append(el('button', { type: 'button', dataset: { action: 'keep', link: String(link.id) }, 'aria-label': t.keepOnLabel(label, title), text: t.keepOn(label) }))
        }
        item.append(actions)
      }
      return item
    }))
  }

  // --- actions ---

  async act (button) {
    const t = this.t
    const d = button.dataset
    button.disabled = true
    try {
      if (d.action === 'remove') {
        await this.api('/links/' + d.link, 'DELETE')
        this.say(t.removed(d.title))
        this.linksHeading.focus()
      } else if (d.action === 'copy') {
        await this.api('/links/' + d.link + '/copy', 'POST', { unit: d.unit })
        this.say(t.copied(d.label))
      } else if (d.action === 'move') {
        await this.api('/links/' + d.link + '/move', 'POST', { unit: d.unit })
        this.say(t.moved(d.label))
      } else if (d.action === 'keep') {
        await this.api('/links/' + d.link + '/acknowledge', 'POST', {})
        this.say(t.kept)
      } else if (d.action === 'confirm') {
        await this.api('/links', 'POST', { unit: this.unit.guid, source_kind: d.kind, source_id: Number(d.id), relation: 'motivated', origin: 'suggestion' })
        this.say(t.linked(d.title))
        this.linksHeading.focus()
      } else if (d.action === 'reject') {
        await this.api('/suggestions/reject', 'POST', { unit: this.unit.guid, source_kind: d.kind, source_id: Number(d.id) })
        this.say(t.rejected(d.title))
        this.suggestHeading.setAttribute('tabindex', '-1')
        this.suggestHeading.focus()
      }
    } catch (error) {
      this.say(this.failure(error), true)
      button.disabled = false
      return
    }
    await this.refresh()
    this.loadAttention()
  }

  async submit () {
    const t = this.t
    if (!this.unit) return
    if (!this.chosen) {
      this.sayInForm(t.chooseSource, true)
      this.input.setAttribute('aria-invalid', 'true')
      this.input.focus()
      return
    }
    const chosen = this.chosen
    const button = this.form.querySelector('button[type=submit]')
    button.disabled = true
    try {
      const result = await this.api('/links', 'POST', {
        unit: this.unit.guid, source_kind: chosen.kind, source_id: chosen.id,
        relation: this.relation.value, note: this.note.value
      })
      this.sayInForm(result.created ? t.linked(chosen.title) : t.updated(chosen.title))
      this.input.removeAttribute('aria-invalid')
      this.chosen = null
      this.input.value = ''
      this.note.value = ''
      await this.refresh()
    } catch (error) {
      this.sayInForm(this.failure(error), true)
    } finally {
      button.disabled = false
    }
  }

  // --- the source picker (ARIA combobox with a listbox popup) ---

  scheduleSearch () {
    this.debounce('search', SEARCH_DEBOUNCE_MS, () => this.search())
  }

  async search () {
    const t = this.t
    const seq = ++this.searchSeq
    const params = new URLSearchParams({ q: this.input.value.trim(), limit: '12' })
    if (this.kindSelect.value) params.set('kind', this.kindSelect.value)
    let data
    try {
      data = await this.api('/sources?' + params.toString())
    } catch (error) {
      if (seq === this.searchSeq) { this.formStatus.textContent = this.failure(error) }
      return
    }
    if (seq !== this.searchSeq || document.activeElement !== this.input) return
    this.options = data.sources || []
    this.active = -1
    const items = this.options.map((s, i) => el('li', {
      id: 'prov-opt-' + i, role: 'option', 'aria-selected': 'false', class: 'prov-option', dataset: { index: String(i) }
    }, el('span', { class: 'prov-kind prov-kind-' + s.kind, text: t.kinds[s.kind] }), ' ',
    el('span', { class: 'prov-option-title', text: this.sourceTitle(s) }),
    this.sourceMeta(s) ? el('span', { class: 'prov-meta', text: this.sourceMeta(s) }) : null))
    if (!items.length) items.push(el('li', { class: 'prov-option-empty', role: 'option', 'aria-disabled': 'true', 'aria-selected': 'false', text: t.noSources }))
    if (data.truncated) items.push(el('li', { class: 'prov-option-empty', role: 'option', 'aria-disabled': 'true', 'aria-selected': 'false', text: t.moreSources(data.total - this.options.length) }))
    this.list.replaceChildren(...items)
    this.openList()
  }

  openList () {
    this.list.hidden = false
    this.input.setAttribute('aria-expanded', 'true')
  }

  closeList () {
    this.list.hidden = true
    this.input.setAttribute('aria-expanded', 'false')
    this.input.removeAttribute('aria-activedescendant')
    this.active = -1
  }

  highlight (index) {
    const options = this.list.querySelectorAll('.prov-option')
    if (!options.length) return
    this.active = (index + options.length) % options.length
    options.forEach((o, i) => o.setAttribute('aria-selected', i === this.active ? 'true' : 'false'))
    const current = options[this.active]
    this.input.setAttribute('aria-activedescendant', current.id)
    if (current.scrollIntoView) current.scrollIntoView({ block: 'nearest' })
  }

  choose (index) {
    const source = this.options[index]
    if (!source) return
    this.chosen = { kind: source.kind, id: source.id, title: this.sourceTitle(source) }
    this.input.value = this.chosen.title
    this.input.removeAttribute('aria-invalid')
    this.sayInForm('')
    this.closeList()
  }

  comboKey (e) {
    const open = !this.list.hidden
    if (e.key === 'ArrowDown') {
      e.preventDefault()
      if (!open) { this.search(); return }
      this.highlight(this.active + 1)
    } else if (e.key === 'ArrowUp') {
      e.preventDefault()
      if (open) this.highlight(this.active - 1)
    } else if (e.key === 'Enter') {
      if (open && this.active >= 0) { e.preventDefault(); this.choose(this.active) }
    } else if (e.key === 'Escape') {
      if (open) { e.preventDefault(); this.closeList() }
    }
  }
}
