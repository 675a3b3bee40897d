// Pure numbering of legal units (see docs/document-model.md, "Numbering").
// No DOM, no ProseMirror, no Yjs: input is a plain tree, output plain strings.

export const UNIT_KINDS = ['title', 'chapter', 'article', 'paragraph', 'subparagraph', 'point', 'indent']

// Not a unit kind: the style slot of the articles inside a `transitional` group (transitory
// articles: PRIMERO, SEGUNDO…), counted apart from the body's articles.
export const TRANSITIONAL_ARTICLES = 'transitional'
const STYLED = [...UNIT_KINDS, TRANSITIONAL_ARTICLES]

export const DEFAULT_STYLES = {
  transitional: 'ordinal-es',
  title: 'ordinal-es',
  chapter: 'upper-roman',
  article: 'arabic',
  paragraph: 'upper-alpha',
  subparagraph: 'arabic',
  point: 'upper-roman',
  indent: 'lower-alpha'
}

const STYLES = new Set(['arabic', 'upper-alpha', 'lower-alpha', 'upper-roman', 'lower-roman', 'ordinal-es'])

const ROMAN = [
  [1000, 'M'], [900, 'CM'], [500, 'D'], [400, 'CD'], [100, 'C'], [90, 'XC'],
  [50, 'L'], [40, 'XL'], [10, 'X'], [9, 'IX'], [5, 'V'], [4, 'IV'], [1, 'I']
]

export function toRoman (n) {
  if (!(n > 0)) return String(n)
  let out = ''
  for (const [value, sym] of ROMAN) {
    while (n >= value) { out += sym; n -= value }
  }
  return out
}

// 1 → A, 26 → Z, 27 → AA, 28 → AB … (bijective base 26)
export function toAlpha (n) {
  if (!(n > 0)) return String(n)
  let out = ''
  while (n > 0) {
    n -= 1
    out = String.fromCharCode(65 + (n % 26)) + out
    n = Math.floor(n / 26)
  }
  return out
}

const UNITS_ES = ['', 'PRIMERO', 'SEGUNDO', 'TERCERO', 'CUARTO', 'QUINTO', 'SEXTO', 'SÉPTIMO', 'OCTAVO', 'NOVENO']
const TEENS_ES = {
  10: 'DÉCIMO',
  11: 'DÉCIMO PRIMERO',
  12: 'DÉCIMO SEGUNDO',
  13: 'DÉCIMO TERCERO',
  14: 'DÉCIMO CUARTO',
  15: 'DÉCIMO QUINTO',
  16: 'DÉCIMO SEXTO',
  17: 'DÉCIMO SÉPTIMO',
  18: 'DÉCIMO OCTAVO',
  19: 'DÉCIMO NOVENO'
}
const TENS_ES = ['', '', 'VIGÉSIMO', 'TRIGÉSIMO', 'CUADRAGÉSIMO', 'QUINCUAGÉSIMO', 'SEXAGÉSIMO', 'SEPTUAGÉSIMO', 'OCTOGÉSIMO', 'NONAGÉSIMO']

// Spanish ordinal words, masculine, upper case: 1 → PRIMERO, 21 → VIGÉSIMO PRIMERO, up to 99.
// Beyond 99 falls back to arabic digits.
export function ordinalEs (n) {
  if (!(n > 0) || n > 99) return String(n)
  if (n < 10) return UNITS_ES[n]
  if (n < 20) return TEENS_ES[n]
  const tens = Math.floor(n / 10)
  const unit = n % 10
  return unit === 0 ? TENS_ES[tens] : TENS_ES[tens] + ' ' + UNITS_ES[unit]
}

export function formatNumber (n, style) {
  switch (style) {
    case 'arabic': return String(n)
    case 'upper-alpha': return toAlpha(n)
    case 'lower-alpha': return toAlpha(n).toLowerCase()
    case 'upper-roman': return toRoman(n)
    case 'lower-roman': return toRoman(n).toLowerCase()
    case 'ordinal-es': return ordinalEs(n)
    default: return String(n)
  }
}

// Accepts the meta "numbering" value: JSON string, plain object, or null.
export function parseStyles (numbering) {
  let obj = numbering
  if (typeof obj === 'string') {
    try { obj = JSON.parse(obj) } catch (e) { obj = null }
  }
  const out = {}
  if (obj && typeof obj === 'object') {
    for (const kind of STYLED) {
      const v = obj[kind]
      if (typeof v === 'string' && STYLES.has(v)) out[kind] = v
    }
  }
  return out
}

export function isEnglish (language) {
  return typeof language === 'string' && /^(eng|en)(\b|[-_]|$)/i.test(language)
}

// The pin that marks an unnumbered unit: no number shown, no counter advanced.
export const UNNUMBERED = '-'

export function stylesFor (language, overrides) {
  const styles = Object.assign({}, DEFAULT_STYLES)
  if (isEnglish(language)) { styles.title = 'arabic'; styles.transitional = 'arabic' }
  return Object.assign(styles, overrides || {})
}

// The label shown for a unit with number `num` (already formatted or pinned).
export function formatLabel (kind, num, language) {
  const en = isEnglish(language)
  switch (kind) {
    case 'title': return (en ? 'TITLE ' : 'TÍTULO ') + num
    case 'chapter': return (en ? 'CHAPTER ' : 'CAPÍTULO ') + num
    case 'article': return (en ? 'Article ' : 'Artículo ') + num
    case TRANSITIONAL_ARTICLES: return en ? 'Transitional article ' + num : 'Artículo ' + num + ' transitorio'
    case 'paragraph':
    case 'subparagraph':
    case 'point': return num + '.'
    case 'indent': return num + ')'
    default: return ''
  }
}

/**
 * Number a tree of units.
 * @param {Array<{kind: string, pin?: string|null, children?: Array}>} roots top-level units in order
 *   (a `preamble` or unknown kinds are allowed and get no number).
 * @param {{language?: string, numbering?: any}} [opts]
 * @returns {Array<{kind: string, num: string, label: string, depth: number}>} one entry per unit,
 *   in document (pre-)order, preamble included with empty num/label.
 */
export function numberUnits (roots, opts = {}) {
  const language = opts.language || 'spa'
  const styles = stylesFor(language, parseStyles(opts.numbering))
  const out = []
  let articleCounter = 0
  const walk = (nodes, parentKind, depth) => {
    const counters = {}
    for (const node of nodes) {
      const kind = node.kind
      let num = ''
      if (UNIT_KINDS.includes(kind)) {
        const pin = typeof node.pin === 'string' ? node.pin.trim() : ''
        if (pin === UNNUMBERED) {
          num = '' // a unit the source leaves unnumbered (docs/document-model.md)
        } else if (pin) {
          num = pin
        } else if (kind === 'article' && parentKind === 'transitional') {
          counters.article = (counters.article || 0) + 1 // transitory articles count within their group
          num = formatNumber(counters.article, styles.transitional)
        } else if (kind === 'article') {
          articleCounter += 1
          num = formatNumber(articleCounter, styles.article)
        } else {
          counters[kind] = (counters[kind] || 0) + 1
          num = formatNumber(counters[kind], styles[kind])
        }
      }
      const labelled = kind === 'article' && parentKind === 'transitional' ? TRANSITIONAL_ARTICLES : kind
      const entry = { kind, num, label: num ? formatLabel(labelled, num, language) : '', depth }
      out.push(entry)
      if (node.children && node.children.length) walk(node.children, kind, depth + 1)
    }
  }
  walk(roots, null, 0)
  return out
}
