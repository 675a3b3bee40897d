// Public comments (#public-comments): what residents wrote on the clauses (editor.participation),
// beside the text, apart from the drafting side's own comments. Read-only here: residents write
// on the clause's public page, moderators decide in the moderation queue (linked).
//
// Filters: which comments (published; for moderators also those waiting for moderation, the
// hidden ones, all) and where (the whole document, or the clause at the cursor). Data: the JSON
// stream /d/<slug>/public-comments.json; live: the `public-comments` socket event, which reaches
// moderators for every change and the other commenters when something is published.
import { Plugin, PluginKey, TextSelection } from 'prosemirror-state'
import { isUnitType } from './schema.js'
import { Panel, el, requestJSON } from './panel.js'

const publicKey = new PluginKey('constituent-public-comments')
const REFRESH_MS = 80
const FOLLOW_MS = 120
const STATES = ['published', 'pending', 'hidden', 'all']
const MODERATOR_STATES = new Set(['pending', 'all'])

export class PublicCommentsPanel extends Panel {
  constructor (root, opts) {
    super(root, opts, { strings: 'pub', prefix: 'pub', headingId: 'public-comments-title' })
    this.url = (opts.base || '') + '/d/' + encodeURIComponent(this.slug) + '/public-comments.json'
    this.state = 'published'
    this.onlyHere = false
    this.moderator = false
    this.loaded = false
    this.comments = []
    this.build()
  }

  build () {
    const t = this.t
    this.stateSelect = el('select', { id: 'pub-state' }, STATES.map(s => el('option', {
      value: s, text: t.states[s], hidden: MODERATOR_STATES.has(s), disabled: MODERATOR_STATES.has(s)
    })))
    this.hereBox = el('input', { type: 'checkbox', id: 'pub-here' })
    this.countEl = el('p', { class: 'pub-count', text: t.loading })
    this.queueLink = el('a', { class: 'pub-queue', hidden: true, href: '#' })
    this.listEl = el('ol', { class: 'pub-list', 'aria-label': t.title })
    this.assemble(
      el('p', { class: 'pub-intro', text: t.intro }),
      el('div', { class: 'pub-filters' },
        el('label', { for: 'pub-state', text: t.show }), this.stateSelect,
        el('span', { class: 'pub-check' }, this.hereBox, ' ', el('label', { for: 'pub-here', text: t.onlyHere }))),
      this.unitEl, this.countEl, this.queueLink, this.status, this.listEl)
    this.unitEl.hidden = true
    this.stateSelect.addEventListener('change', () => { this.state = this.stateSelect.value; this.refresh() })
    this.hereBox.addEventListener('change', () => {
      this.onlyHere = this.hereBox.checked
      this.unitEl.hidden = !this.onlyHere
      this.render()
    })
  }

  /** Wire the panel to the editor: live events, and the clause at the cursor. */
  attach (view, { provider, unitAt }) {
    this.view = view
    this.unitAt = unitAt
    if (provider) {
      this.listen(provider, 'public-comments')
      provider.on('status', ({ status }) => { if (status === 'connected' && this.loaded) this.changed() })
    }
    this.refresh()
  }

  /** Follows the selection (the "only the clause at the cursor" filter). */
  plugins () {
    return [new Plugin({
      key: publicKey,
      view: () => ({
        update: (view, prev) => {
          if (!view.state.selection.eq(prev.selection)) this.debounce('follow', FOLLOW_MS, () => this.followSelection())
        }
      })
    })]
  }

  followSelection () {
    if (!this.view || !this.unitAt) return
    const info = this.unitAt(this.view.state.selection.$from)
    const guid = info && info.guid ? info.guid : null
    if (guid === (this.unit && this.unit.guid)) return
    this.unit = guid ? { guid, label: info.label || '' } : null
    if (this.onlyHere) this.render()
    else this.renderUnitLabel()
  }

  /** Someone's public comment changed (the `public-comments` socket event). */
  changed () {
    this.debounce('refresh', REFRESH_MS, () => this.refresh())
  }

  async load (current) {
    try {
      const data = await requestJSON(this.url + '?state=' + encodeURIComponent(this.state))
      if (!current()) return this.refreshing
      this.comments = data.comments || []
      this.counts = data.counts || {}
      this.moderator = !!data.moderator
      this.open = !!data.open
      this.stage = data.stage || ''
      this.queueUrl = data.queue_url || null
      this.loaded = true
      this.root.dataset.state = 'ready'
      this.render()
    } catch (error) {
      if (!current()) return this.refreshing
      this.say(this.failure(error, this.t.loadFailed), true)
    }
  }

  shown () {
    if (!this.onlyHere) return this.comments
    const here = this.unit ? this.unit.guid : null
    return here ? this.comments.filter(c => c.unit === here) : []
  }

  render () {
    const t = this.t
    for (const option of this.stateSelect.options) {
      const moderatorOnly = MODERATOR_STATES.has(option.value)
      option.hidden = moderatorOnly && !this.moderator
      option.disabled = moderatorOnly && !this.moderator
    }
    this.renderUnitLabel()
    const counts = this.counts || {}
    const parts = [t.published(counts.published || 0)]
    if (this.moderator) parts.push(t.waiting(counts.queue || 0))
    if (!this.open) parts.push(t.closed(this.stage))
    this.countEl.textContent = parts.join(' · ')
    this.root.dataset.count = String(this.comments.length)
    if (this.moderator && this.queueUrl) {
      this.queueLink.hidden = false
      this.queueLink.href = this.queueUrl
      this.queueLink.textContent = t.queue
    } else {
      this.queueLink.hidden = true
    }
    const empty = this.onlyHere ? (this.unit ? t.noneHere : t.hint) : t.none
    this.fill(this.listEl, this.shown(), c => this.renderComment(c, true), empty)
  }

  renderComment (c, top) {
    const t = this.t
    const parts = [el('p', { class: 'pub-by' },
      top ? el('button', { type: 'button', class: 'pub-goto', dataset: { action: 'goto', unit: c.unit }, disabled: !c.unit_eId, text: c.unit_label || t.unitGone }) : null,
      top ? ' · ' : null,
      el('strong', { text: c.author || t.someone }), ' · ', this.date(c.created_at))]
    if (c.state === 'pending') parts.push(el('p', { class: 'pub-state pub-waiting', text: t.waitingFor(t.held[c.held_for] || '') }))
    if (c.state === 'hidden') parts.push(el('p', { class: 'pub-state pub-hidden-reason', text: t.hiddenBecause(c.hidden_reason || '') }))
    if (c.quote) parts.push(el('blockquote', { class: 'pub-quote', text: c.quote }))
    if (c.body !== null && c.body !== undefined) parts.push(el('p', { class: 'pub-body', text: c.body }))
    const facts = [t.supports(c.supports || 0)]
    if (c.reports && c.reports.length) facts.push(t.reports(c.reports.length))
    parts.push(el('p', { class: 'pub-facts' }, facts.join(' · '),
      c.url ? [' · ', el('a', { href: c.url, target: '_blank', rel: 'noopener', text: t.publicPage })] : null))
    if (c.reports && c.reports.length) {
      parts.push(el('ul', { class: 'pub-reports', 'aria-label': t.reportsLabel }, c.reports.map(r => el('li', { text: r }))))
    }
    if (c.replies && c.replies.length) {
      parts.push(el('ol', { class: 'pub-replies', 'aria-label': t.repliesLabel(c.replies.length) },
        c.replies.map(r => this.renderComment(r, false))))
    }
    return el('li', {
      class: 'pub-item pub-' + c.state, dataset: { commentId: String(c.id), state: c.state }
    }, parts)
  }

  /** "Go to the clause": put the cursor in it (the text scrolls there). */
  act (button) {
    if (button.dataset.action !== 'goto' || !this.view) return
    const view = this.view
    let found = null
    view.state.doc.descendants((node, pos) => {
      if (found !== null) return false
      if (isUnitType(node.type) && node.attrs.guid === button.dataset.unit) { found = pos; return false }
      return true
    })
    if (found === null) { this.say(this.t.unitGone, true); return }
    view.dispatch(view.state.tr.setSelection(TextSelection.near(view.state.doc.resolve(found + 1))).scrollIntoView())
    view.focus()
  }
}
