// ProseMirror schema mirroring docs/document-model.md: node names are the Yjs element names.
import { Schema } from 'prosemirror-model'

export const UNIT_TYPES = ['preamble', 'title', 'chapter', 'article', 'paragraph', 'subparagraph', 'point', 'indent', 'transitional']
export const NUMBERED_TYPES = ['title', 'chapter', 'article', 'paragraph', 'subparagraph', 'point', 'indent']
// Rank = depth in the hierarchy; used to pick "next lower/higher" kinds.
export const RANK = { title: 0, chapter: 1, article: 2, paragraph: 3, subparagraph: 4, point: 5, indent: 6 }
export const CHILD_KINDS = {
  preamble: [],
  title: ['chapter', 'article'],
  chapter: ['article'],
  article: ['paragraph', 'subparagraph', 'point', 'indent'],
  paragraph: ['subparagraph', 'point', 'indent'],
  subparagraph: ['point', 'indent'],
  point: ['indent'],
  indent: [],
  // A group of transitional provisions ("TRANSITORIOS"): transitory articles, after the body's units.
  transitional: ['article']
}
export const TOP_KINDS = ['title', 'chapter', 'article']
export const HEADING_REQUIRED = new Set(['title', 'chapter', 'article'])

export function isUnitType (type) {
  return !!type && type.spec.unit === true
}

function unitSpec (name) {
  const heading = HEADING_REQUIRED.has(name) ? 'heading' : 'heading?'
  const kids = CHILD_KINDS[name]
  const content = heading + ' p*' + (kids.length ? ' (' + kids.join(' | ') + ')*' : '')
  return {
    content,
    unit: true,
    defining: true,
    isolating: true,
    attrs: { guid: { default: null }, pin: { default: null } },
    parseDOM: [{
      tag: 'section[data-unit="' + name + '"]',
      getAttrs: dom => ({ guid: dom.getAttribute('data-guid') || null, pin: dom.getAttribute('data-pin') || null })
    }],
    toDOM: node => {
      const attrs = { 'data-unit': name, class: 'unit unit-' + name }
      if (node.attrs.guid) attrs['data-guid'] = node.attrs.guid
      if (node.attrs.pin) attrs['data-pin'] = node.attrs.pin
      return ['section', attrs, 0]
    }
  }
}

const nodes = {
  doc: { content: 'preamble? (title | chapter | article)+ transitional*' },
  text: {},
  heading: {
    content: 'text*',
    marks: '',
    defining: true,
    parseDOM: [{ tag: 'h1' }, { tag: 'h2' }, { tag: 'h3' }, { tag: 'h4' }, { tag: 'h5' }, { tag: 'h6' }, { tag: 'div.heading' }],
    toDOM: () => ['div', { class: 'heading', role: 'heading', 'aria-level': '3' }, 0]
  },
  p: {
    content: 'text*',
    marks: '',
    parseDOM: [{ tag: 'p' }],
    toDOM: () => ['p', 0]
  }
}
for (const name of UNIT_TYPES) {
  const spec = unitSpec(name)
  if (name === 'preamble') {
    spec.content = 'heading? p*'
    spec.attrs = { guid: { default: null }, pin: { default: null } }
  }
  nodes[name] = spec
}

export const schema = new Schema({ nodes, marks: {} })
