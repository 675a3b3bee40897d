// ProseMirror schema mirroring docs/document-model.md: node names are the Yjs element names.
import { Schema } from 'prosemirror-model'

export const UNIT_TYPES = ['preamble', 'title', 'chapter', 'article', 'paragraph', 'subparagraph', 'point', 'indent', 'transitional', 'attachment', 'crossHeading']
export const NUMBERED_TYPES = ['title', 'chapter', 'article', 'paragraph', 'subparagraph', 'point', 'indent']
// Rank = depth in the hierarchy; used to pick "next lower/higher" kinds.
export const RANK = { title: 0, chapter: 1, article: 2, paragraph: 3, subparagraph: 4, point: 5, indent: 6 }
export const CHILD_KINDS = {
  preamble: [],
  title: ['chapter', 'article', 'crossHeading'],
  chapter: ['article', 'crossHeading'],
  article: ['paragraph', 'subparagraph', 'point', 'indent'],
  paragraph: ['subparagraph', 'point', 'indent'],
  subparagraph: ['point', 'indent'],
  point: ['indent'],
  indent: [],
  // A group of transitional provisions ("TRANSITORIOS"): transitory articles, after the body's units.
  transitional: ['article', 'crossHeading'],
  // A schedule or annex ("ANEXO 1"): its text, tables and units, after the transitional provisions.
  attachment: ['article', 'paragraph', 'subparagraph', 'point', 'indent', 'crossHeading'],
  // A cross-heading: a heading line between units, no number, nothing but its heading.
  crossHeading: []
}
export const TOP_KINDS = ['title', 'chapter', 'article']
export const HEADING_REQUIRED = new Set(['title', 'chapter', 'article', 'attachment', 'crossHeading'])

export function isUnitType (type) {
  return !!type && type.spec.unit === true
}

// The attributes of a suggested new unit (its suggestion's id, author's account id and name, time);
// `removal`: the id of a suggestion to remove (or move) this unit; `movedFrom`: on a suggested
// unit, the GUID of the unit it is the new place of (web/src/suggest.js).
const SUGGESTED_UNIT = {
  suggestion: { default: null },
  suggestedBy: { default: null },
  suggestedName: { default: null },
  suggestedAt: { default: null },
  removal: { default: null },
  movedFrom: { default: null }
}

const english = () => typeof document !== 'undefined' && document.documentElement.lang === 'en'

function pendingTitle (node) {
  const name = node.attrs.suggestedName || ''
  if (node.attrs.movedFrom) return english() ? 'Suggested new place (' + name + ')' : 'Nueva posición sugerida (' + name + ')'
  return english() ? 'Suggested removal (' + name + ')' : 'Supresión sugerida (' + name + ')'
}

function unitSpec (name) {
  const heading = HEADING_REQUIRED.has(name) ? 'heading' : 'heading?'
  const kids = CHILD_KINDS[name]
  const content = heading + ' (p | table)*' + (kids.length ? ' (' + kids.join(' | ') + ')*' : '')
  return {
    content,
    unit: true,
    defining: true,
    isolating: true,
    // suggestion…: a new unit suggested in suggestion mode (web/src/suggest.js), until accepted.
    attrs: { guid: { default: null }, pin: { default: null }, ...SUGGESTED_UNIT },
    parseDOM: [{
      tag: 'section[data-unit="' + name + '"]',
      getAttrs: dom => ({ guid: dom.getAttribute('data-guid') || null, pin: dom.getAttribute('data-pin') || null })
    }],
    toDOM: node => {
      const attrs = { 'data-unit': name, class: 'unit unit-' + name }
      if (node.attrs.guid) attrs['data-guid'] = node.attrs.guid
      if (node.attrs.pin) attrs['data-pin'] = node.attrs.pin
      if (node.attrs.suggestion) {
        // Not law yet: its number is provisional (editor.css) until someone accepts it.
        attrs.class += ' unit-suggested'
        attrs['data-suggestion'] = node.attrs.suggestion
        attrs['data-suggested-by'] = node.attrs.suggestedName || ''
        attrs['data-provisional'] = 'true'
        if (node.attrs.movedFrom) {
          // Where a unit would go: shown, not written in (accepting takes the unit as it is then).
          attrs.class += ' unit-moved-here'
          attrs['data-moved-from'] = node.attrs.movedFrom
          attrs.contenteditable = 'false'
          attrs.title = pendingTitle(node)
        }
      } else if (node.attrs.removal) {
        attrs.class += ' unit-removal'
        attrs['data-removal'] = node.attrs.removal
        attrs['data-suggested-by'] = node.attrs.suggestedName || ''
        attrs.title = pendingTitle(node)
      }
      return ['section', attrs, 0]
    }
  }
}

const nodes = {
  doc: { content: 'preamble? (title | chapter | article | crossHeading)+ transitional* attachment*' },
  text: {},
  heading: {
    content: 'text*',
    marks: '_', // every inline mark (docs/document-model.md, "Inline markup")
    defining: true,
    parseDOM: [{ tag: 'h1' }, { tag: 'h2' }, { tag: 'h3' }, { tag: 'h4' }, { tag: 'h5' }, { tag: 'h6' }, { tag: 'div.heading' }],
    toDOM: () => ['div', { class: 'heading', role: 'heading', 'aria-level': '3' }, 0]
  },
  p: {
    content: 'text*',
    marks: '_',
    parseDOM: [{ tag: 'p' }],
    toDOM: () => ['p', 0]
  }
}
// A table among a unit's paragraphs (docs/document-model.md): rows of cells, each cell a text block.
nodes.table = {
  content: 'tr+',
  isolating: true,
  parseDOM: [{ tag: 'table' }],
  toDOM: () => ['table', { class: 'unit-table' }, ['tbody', 0]]
}
nodes.tr = { content: 'td+', parseDOM: [{ tag: 'tr' }], toDOM: () => ['tr', 0] }
nodes.td = {
  content: 'text*',
  marks: '',
  isolating: true,
  parseDOM: [{ tag: 'td' }, { tag: 'th' }],
  toDOM: () => ['td', 0]
}
for (const name of UNIT_TYPES) {
  const spec = unitSpec(name)
  if (name === 'preamble') {
    spec.content = 'heading? (p | table)*'
    spec.attrs = { guid: { default: null }, pin: { default: null }, ...SUGGESTED_UNIT }
  }
  if (name === 'crossHeading') spec.content = 'heading'
  nodes[name] = spec
}

// Inline marks (docs/document-model.md, "Inline markup"), outermost first: y-prosemirror stores
// each as a Yjs formatting attribute named like the mark whose value is the mark's attrs
// ({"ref": {"guid": "…"}}, {"b": {}}); the server reads and writes exactly that shape.
export const MARK_ORDER = ['ref', 'def', 'term', 'b', 'i', 'note']
// Suggestions (web/src/suggest.js): suggested insertions and deletions, with who and when.
// Not part of the accepted text; the server reads them as the formatting attributes `ins`/`del`.
function suggestionMark (tag, kind) {
  return {
    attrs: { id: { default: null }, by: { default: null }, name: { default: null }, at: { default: null } },
    inclusive: false,
    parseDOM: [],
    toDOM: mark => ['' + tag, {
      class: 'suggestion suggestion-' + kind,
      'data-suggestion': mark.attrs.id || '',
      'data-by': mark.attrs.by || '',
      title: (mark.attrs.name || '') + (mark.attrs.at ? ' · ' + mark.attrs.at.slice(0, 16).replace('T', ' ') : '')
    }, 0]
  }
}
const marks = {
  // A cross-reference to a unit of this document (by GUID), or to an address outside it (href).
  ref: {
    attrs: { guid: { default: null }, href: { default: null } },
    inclusive: false,
    parseDOM: [{
      tag: 'a.ref',
      getAttrs: dom => ({ guid: dom.getAttribute('data-guid') || null, href: dom.getAttribute('data-href') || null })
    }],
    toDOM: mark => {
      const attrs = { class: 'ref' }
      if (mark.attrs.guid) attrs['data-guid'] = mark.attrs.guid
      if (mark.attrs.href) attrs['data-href'] = mark.attrs.href
      return ['a', attrs, 0]
    }
  },
  // The defining occurrence of a term, and a defined term where it is used.
  def: {
    attrs: { refersTo: { default: null } },
    parseDOM: [{ tag: 'dfn', getAttrs: dom => ({ refersTo: dom.getAttribute('data-refers-to') || null }) }],
    toDOM: mark => ['dfn', mark.attrs.refersTo ? { 'data-refers-to': mark.attrs.refersTo } : {}, 0]
  },
  term: {
    attrs: { refersTo: { default: null } },
    parseDOM: [{ tag: 'span.term', getAttrs: dom => ({ refersTo: dom.getAttribute('data-refers-to') || null }) }],
    toDOM: mark => ['span', mark.attrs.refersTo ? { class: 'term', 'data-refers-to': mark.attrs.refersTo } : { class: 'term' }, 0]
  },
  b: {
    parseDOM: [{ tag: 'b' }, { tag: 'strong' }, { style: 'font-weight=bold' }],
    toDOM: () => ['b', 0]
  },
  i: {
    parseDOM: [{ tag: 'i' }, { tag: 'em' }, { style: 'font-style=italic' }],
    toDOM: () => ['i', 0]
  },
  // An authorial note or footnote: the marked text is its call ("*", "1"), `text` the note.
  note: {
    attrs: { text: { default: '' } },
    inclusive: false,
    parseDOM: [{ tag: 'sup.note-call', getAttrs: dom => ({ text: dom.getAttribute('data-note') || '' }) }],
    toDOM: mark => ['sup', { class: 'note-call', 'data-note': mark.attrs.text, title: mark.attrs.text }, 0]
  },
  ins: suggestionMark('ins', 'ins'),
  del: suggestionMark('del', 'del')
}

export const schema = new Schema({ nodes, marks })
