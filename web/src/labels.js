// Live numbering: a widget decoration with the derived label before each unit's first block.
// Rebuilt only when the unit tree changed; a change that kept it (typing, Enter inside a unit,
// a remote edit of text) maps the previous set, so the view compares nothing else.
import { Plugin, PluginKey } from 'prosemirror-state'
import { Decoration, DecorationSet } from 'prosemirror-view'
import { labelledUnits, docChange, reconcileDecorations } from './units.js'

export const labelsPluginKey = new PluginKey('constituent-labels')

function labelWidget (kind, label, pinned, inline, preambleText) {
  return () => {
    const el = document.createElement('span')
    el.className = 'unit-label unit-label-' + kind + (inline ? ' unit-label-inline' : ' unit-label-block') + (pinned ? ' unit-label-pinned' : '')
    el.contentEditable = 'false'
    const text = document.createElement('span')
    text.className = 'unit-label-text'
    text.textContent = label || preambleText || ''
    el.append(text)
    if (inline) el.append(' ')
    return el
  }
}

function labelDecorations (doc, opts, t) {
  const decos = []
  for (const u of labelledUnits(doc, opts)) {
    const kind = u.node.type.name
    // Unnumbered groups say what they are: the preamble, a group of transitional provisions.
    const label = kind === 'preamble' ? t.preamble : kind === 'transitional' ? t.kinds.transitional : u.label
    if (!label) continue
    const first = u.node.firstChild
    const inline = !!(first && first.isTextblock)
    const pos = inline ? u.pos + 2 : u.pos + 1
    decos.push(Decoration.widget(pos, labelWidget(kind, label, !!u.node.attrs.pin, inline), {
      side: -1,
      ignoreSelection: true,
      key: 'lbl|' + kind + '|' + (inline ? 'i' : 'b') + '|' + (u.node.attrs.pin ? 'p' : '') + '|' + label
    }))
  }
  return decos
}

export function buildDecorations (doc, opts, t) {
  return DecorationSet.create(doc, labelDecorations(doc, opts, t))
}

/**
 * @param {() => {language: string, numbering: any}} getOpts numbering options (from meta)
 * @param {object} t translations
 */
export function labelsPlugin (getOpts, t) {
  return new Plugin({
    key: labelsPluginKey,
    state: {
      init: (_, state) => buildDecorations(state.doc, getOpts(), t),
      apply: (tr, old, oldState, newState) => nextDecorations(tr, old, oldState.doc, newState.doc, getOpts, t)
    },
    props: {
      decorations (state) { return labelsPluginKey.getState(state) }
    }
  })
}

// The plugin's step, on its own for the tests: the same set, the previous one mapped (the unit
// tree is unchanged), or the previous one mapped and brought up to date (only the labels that
// differ are replaced).
export function nextDecorations (tr, old, oldDoc, newDoc, getOpts, t) {
  const forced = tr.getMeta(labelsPluginKey) // the numbering options changed
  if (!forced && !tr.docChanged) return old
  const change = tr.docChanged ? docChange(oldDoc, newDoc) : null
  const mapped = change && change.from !== null ? old.map(change.mapping, newDoc) : old
  if (!forced && (!change || change.unitsKept)) return mapped
  return reconcileDecorations(mapped, newDoc, labelDecorations(newDoc, getOpts(), t))
}
