// A small drag handle on each unit: pressing it selects the unit (NodeSelection) so that
// ProseMirror's own drag and drop moves the whole unit.
import { Plugin, PluginKey, NodeSelection } from 'prosemirror-state'
import { Decoration, DecorationSet } from 'prosemirror-view'
import { collectUnits, docChange, firstShowLater, reconcileDecorations } from './units.js'

export const dragPluginKey = new PluginKey('constituent-drag')

function handles (doc, t) {
  const decos = []
  for (const u of collectUnits(doc)) {
    if (u.node.type.name === 'preamble') continue
    decos.push(Decoration.widget(u.pos + 1, (view, getPos) => {
      const h = document.createElement('span')
      h.className = 'drag-handle drag-handle-' + u.node.type.name
      h.contentEditable = 'false'
      h.draggable = true
      h.title = t.dragHandle
      h.setAttribute('aria-hidden', 'true')
      h.addEventListener('mousedown', (e) => {
        if (!view.editable) return
        const pos = getPos()
        if (pos === undefined) return
        const $pos = view.state.doc.resolve(pos)
        // the widget sits at unit start + 1: the unit is the parent at that position
        const unitPos = $pos.before($pos.depth)
        try {
          view.dispatch(view.state.tr.setSelection(NodeSelection.create(view.state.doc, unitPos)))
        } catch (err) { /* ignore */ }
      })
      return h
    }, { side: -2, ignoreSelection: true, key: 'drag|' + u.node.type.name }))
  }
  return decos
}

function build (doc, t) {
  return DecorationSet.create(doc, handles(doc, t))
}

// `later`: the handles are first drawn after the frame that shows the text (the editor: on a
// whole constitution they would delay it), then kept up to date as before.
export function dragHandlePlugin (t, { later = false } = {}) {
  const deferred = later ? firstShowLater(dragPluginKey) : null
  return new Plugin({
    key: dragPluginKey,
    view: deferred ? deferred.view : undefined,
    state: {
      init: (_, state) => deferred ? DecorationSet.empty : build(state.doc, t),
      apply: (tr, old, oldState, newState) => {
        if (deferred) {
          if (deferred.shows(tr)) return build(newState.doc, t)
          if (deferred.pending()) return old
        }
        if (!tr.docChanged) return old
        const change = docChange(oldState.doc, newState.doc) // the handles move unless units changed
        if (!change) return old
        const mapped = change.from === null ? old : old.map(change.mapping, newState.doc)
        return change.unitsKept ? mapped : reconcileDecorations(mapped, newState.doc, handles(newState.doc, t))
      }
    },
    props: {
      decorations (state) { return dragPluginKey.getState(state) }
    }
  })
}
