// Table of contents (#outline): titles, chapters and articles with labels and headings.
import { TextSelection } from 'prosemirror-state'
import { labelledUnits, firstTextPos, docChange, changedTextblocks } from './units.js'

const OUTLINE_KINDS = new Set(['preamble', 'title', 'chapter', 'article', 'attachment'])

// Whether a change that kept the unit tree leaves every entry as it was: it touched no heading
// of a unit the outline lists.
export function outlineKept (doc, change) {
  if (!change) return true
  if (!change.unitsKept) return false
  return !changedTextblocks(doc, change).some(({ node, pos }) => {
    if (node.type.name !== 'heading') return false
    return OUTLINE_KINDS.has(doc.resolve(pos).parent.type.name)
  })
}

function headingText (node) {
  const first = node.firstChild
  return first && first.type.name === 'heading' ? first.textContent.trim() : ''
}

export class Outline {
  constructor (nav, view, getOpts, t) {
    this.nav = nav
    this.view = view
    this.getOpts = getOpts
    this.t = t
    this.signature = null
    this.doc = null // the document the list shows
    this.currentGuid = null
    this.frame = null
    this.nav.classList.add('outline')
    this.nav.addEventListener('click', (e) => {
      const btn = e.target.closest('button[data-guid]')
      if (btn) { e.preventDefault(); this.goTo(btn.dataset.guid, btn.dataset.index) }
    })
    this.title = document.createElement('h2')
    this.title.className = 'outline-title'
    this.title.textContent = t.structure
    this.list = document.createElement('ol')
    this.list.className = 'outline-list'
    this.nav.replaceChildren(this.title, this.list)
  }

  // After the frame that shows the change: when the browser is idle (at most a quarter of a second
  // later), so that neither the first display of a long document nor a keystroke waits for it.
  schedule () {
    if (this.frame !== null) return
    const run = () => { this.frame = null; this.render() }
    if (typeof requestIdleCallback === 'function') this.frame = { idle: requestIdleCallback(run, { timeout: 250 }) }
    else this.frame = { timer: setTimeout(run, 16) }
  }

  render () {
    const state = this.view.state
    // Typing changes no entry: nothing to compare (`signature` is reset when the numbering changes).
    if (this.signature !== null && this.doc && outlineKept(state.doc, docChange(this.doc, state.doc))) {
      this.doc = state.doc
      return
    }
    this.doc = state.doc
    const units = labelledUnits(state.doc, this.getOpts()).filter(u => OUTLINE_KINDS.has(u.node.type.name))
    const items = units.map((u, i) => ({
      kind: u.node.type.name,
      guid: u.node.attrs.guid || '',
      index: i,
      depth: u.depth,
      label: u.node.type.name === 'preamble' ? this.t.preamble : u.label,
      heading: headingText(u.node)
    }))
    const sig = JSON.stringify(items.map(it => [it.kind, it.guid, it.depth, it.label, it.heading]))
    if (sig !== this.signature) {
      this.signature = sig
      // A keyboard user on an entry keeps their place when the list is rebuilt under them (the
      // text arriving, a colleague adding an article): focus moves to the same unit's new entry.
      const active = document.activeElement
      const focused = active && this.list.contains(active) ? active.dataset.guid : null
      this.list.replaceChildren(...this.buildTree(items))
      if (focused) {
        const again = [...this.list.querySelectorAll('button[data-guid]')].find(b => b.dataset.guid === focused)
        if (again) again.focus({ preventScroll: true })
      }
      if (!items.length) {
        const li = document.createElement('li')
        li.className = 'outline-empty'
        li.textContent = this.t.outlineEmpty
        this.list.replaceChildren(li)
      }
    }
    this.markCurrent()
  }

  buildTree (items) {
    const roots = []
    const stack = [] // [{depth, ol}]
    for (const it of items) {
      const li = document.createElement('li')
      li.className = 'outline-item outline-' + it.kind
      const btn = document.createElement('button')
      btn.type = 'button'
      btn.dataset.guid = it.guid
      btn.dataset.index = String(it.index)
      const lab = document.createElement('span')
      lab.className = 'outline-label'
      lab.textContent = it.label
      btn.appendChild(lab)
      if (it.heading) {
        const h = document.createElement('span')
        h.className = 'outline-heading'
        h.textContent = it.heading
        btn.append(' ', h)
      }
      li.appendChild(btn)
      while (stack.length && stack[stack.length - 1].depth >= it.depth) stack.pop()
      if (stack.length) {
        const parent = stack[stack.length - 1]
        if (!parent.ol) {
          parent.ol = document.createElement('ol')
          parent.li.appendChild(parent.ol)
        }
        parent.ol.appendChild(li)
      } else {
        roots.push(li)
      }
      stack.push({ depth: it.depth, li, ol: null })
    }
    return roots
  }

  setCurrent (guid) {
    if (guid === this.currentGuid) return
    this.currentGuid = guid
    this.markCurrent()
  }

  markCurrent () {
    for (const b of this.list.querySelectorAll('button[aria-current]')) {
      if (b.dataset.guid !== this.currentGuid) b.removeAttribute('aria-current')
    }
    if (!this.currentGuid) return
    for (const b of this.list.querySelectorAll('button[data-guid]')) {
      if (b.dataset.guid === this.currentGuid) b.setAttribute('aria-current', 'location')
    }
  }

  goTo (guid, index) {
    const view = this.view
    const units = labelledUnits(view.state.doc, this.getOpts()).filter(u => OUTLINE_KINDS.has(u.node.type.name))
    let u = guid ? units.find(x => x.node.attrs.guid === guid) : null
    if (!u && index !== undefined) u = units[Number(index)]
    if (!u) return
    const textPos = firstTextPos(view.state.doc, u.pos)
    if (textPos !== null) {
      const tr = view.state.tr.setSelection(TextSelection.create(view.state.doc, textPos))
      view.dispatch(tr.scrollIntoView())
    }
    const dom = view.nodeDOM(u.pos)
    if (dom && dom.scrollIntoView) dom.scrollIntoView({ block: 'start', behavior: 'smooth' })
    view.focus()
  }

  destroy () {
    if (this.frame === null) return
    if (this.frame.idle !== undefined) cancelIdleCallback(this.frame.idle)
    else clearTimeout(this.frame.timer)
  }
}
