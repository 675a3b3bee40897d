// Editing toolbar (#toolbar): real buttons with accessible names.
import { undoCommand, redoCommand } from 'y-prosemirror'
import { toggleMark } from 'prosemirror-commands'
import { schema } from './schema.js'
import { insertUnit, moveUnitUp, moveUnitDown, sinkUnit, liftUnit, deleteUnit, setPin, currentUnit } from './commands.js'

const INSERT_KINDS = ['title', 'chapter', 'article', 'paragraph', 'subparagraph', 'point', 'indent', 'crossHeading', 'transitional', 'attachment']

export class Toolbar {
  constructor (el, view, t, wrap = (c) => c, actions = {}) {
    this.wrap = wrap
    this.el = el
    this.view = view
    this.t = t
    this.buttons = []
    el.classList.add('toolbar')
    const groups = []
    const insertGroup = this.group(t.insert)
    for (const kind of INSERT_KINDS) {
      const name = t.kinds[kind]
      insertGroup.append(this.button('insert-' + kind, '+ ' + name, t.insertKind(name), insertUnit(kind)))
    }
    groups.push(insertGroup)
    const structure = this.group(t.structure)
    structure.append(
      this.button('move-up', '↑ ' + t.moveUp, t.moveUpLabel, moveUnitUp),
      this.button('move-down', '↓ ' + t.moveDown, t.moveDownLabel, moveUnitDown),
      this.button('sink', '→ ' + t.sink, t.sinkLabel, sinkUnit),
      this.button('lift', '← ' + t.lift, t.liftLabel, liftUnit),
      this.button('pin', '# ' + t.pin, t.pinLabel, (state, dispatch) => {
        const u = currentUnit(state)
        if (!u || u.node.type.name === 'preamble') return false
        if (!dispatch) return true
        const answer = window.prompt(t.pinPrompt, u.node.attrs.pin || '')
        if (answer === null) return true
        return setPin(answer)(this.view.state, this.view.dispatch)
      }),
      this.button('delete', '✕ ' + t.del, t.delLabel, deleteUnit)
    )
    groups.push(structure)
    const history = this.group(t.edit)
    history.append(
      this.button('undo', '↶ ' + t.undo, t.undoLabel, undoCommand),
      this.button('redo', '↷ ' + t.redo, t.redoLabel, redoCommand)
    )
    groups.push(history)
    // Inline markup and cross-references (docs/document-model.md, "Inline markup").
    const text = this.group(t.textGroup)
    text.append(
      this.button('bold', t.bold, t.boldLabel, toggleMark(schema.marks.b)),
      this.button('italic', t.italic, t.italicLabel, toggleMark(schema.marks.i))
    )
    if (actions.linkReferences) {
      this.note = document.createElement('span')
      this.note.className = 'toolbar-note'
      this.note.setAttribute('role', 'status')
      text.append(this.button('link-references', t.linkRefs, t.linkRefsLabel, (state, dispatch) => {
        if (dispatch) {
          this.note.textContent = t.refsWorking
          actions.linkReferences().then(said => { this.note.textContent = said }, () => { this.note.textContent = t.refsFailed })
        }
        return true
      }), this.note)
    }
    groups.push(text)
    // Suggestion mode (web/src/suggest.js): a toggle, or a fixed "on" for a suggest-only role.
    if (actions.suggest) {
      const s = actions.suggest
      const mode = this.group(t.sug.title)
      const b = this.button('suggest', t.sug.mode, t.sug.modeLabel, () => !s.locked)
      b.setAttribute('aria-pressed', s.isOn() ? 'true' : 'false')
      b.addEventListener('click', () => {
        if (s.locked) return
        s.set(!s.isOn())
        b.setAttribute('aria-pressed', s.isOn() ? 'true' : 'false')
      })
      this.suggestButton = b
      mode.append(b)
      groups.push(mode)
    }
    el.replaceChildren(...groups)
    // Toolbar pattern: one tab stop, arrow keys move between buttons.
    this.buttons.forEach(({ b }, i) => { b.tabIndex = i === 0 ? 0 : -1 })
    el.addEventListener('keydown', (e) => this.onKey(e))
    el.addEventListener('focusin', (e) => {
      if (e.target.tagName !== 'BUTTON') return
      for (const { b } of this.buttons) b.tabIndex = b === e.target ? 0 : -1
    })
    this.update()
  }

  onKey (e) {
    const list = this.buttons.map(x => x.b)
    const i = list.indexOf(document.activeElement)
    if (i < 0) return
    let j = null
    if (e.key === 'ArrowRight' || e.key === 'ArrowDown') j = (i + 1) % list.length
    else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') j = (i - 1 + list.length) % list.length
    else if (e.key === 'Home') j = 0
    else if (e.key === 'End') j = list.length - 1
    else if (e.key === 'Escape') { e.preventDefault(); this.view.focus(); return }
    if (j === null) return
    e.preventDefault()
    list[j].focus()
  }

  group (label) {
    const g = document.createElement('div')
    g.className = 'toolbar-group'
    g.setAttribute('role', 'group')
    g.setAttribute('aria-label', label)
    return g
  }

  button (id, text, label, command) {
    const b = document.createElement('button')
    b.type = 'button'
    b.className = 'tb tb-' + id
    b.dataset.command = id
    b.textContent = text
    b.setAttribute('aria-label', label)
    b.title = label
    // Keep the editor's selection when clicking with the mouse.
    b.addEventListener('mousedown', e => e.preventDefault())
    b.addEventListener('click', e => {
      e.preventDefault()
      const view = this.view
      if (!view.editable) return
      run(view.state, view.dispatch, view)
      view.focus()
    })
    const isHistory = id === 'undo' || id === 'redo'
    const run = isHistory ? command : this.wrap(command)
    this.buttons.push({ b, command })
    return b
  }

  update () {
    const view = this.view
    const editable = view.editable
    for (const { b, command } of this.buttons) {
      let ok = false
      try { ok = editable && !!command(view.state, null, view) } catch (e) { ok = false }
      b.setAttribute('aria-disabled', ok ? 'false' : 'true')
      b.classList.toggle('tb-disabled', !ok)
    }
  }
}
