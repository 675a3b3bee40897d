// Pure numbering of legal units (see docs/document-model.md, "Numbering").
// No DOM, no ProseMirror, no Yjs: input is a plain tree, output plain strings.

export const UNIT_KINDS = ['title', 'chapter', 'article', 'paragraph', 'subparagraph', 'point', 'indent']

// Not a unit kind: the style slot of the articles inside a `transitional` group (transitory
// articles: PRIMERO, SEGUNDO…), counted apart from the body's articles.
export const TRANSITIONAL_ARTICLES = 'transitional'
// A schedule or annex (`attachment` unit): numbered apart, after the transitional provisions
// ("ANEXO 1", "Schedule 1"); its articles count within it. A cross-heading has no number.
export const ATTACHMENTS = 'attachment'
const STYLED = [...UNIT_KINDS, TRANSITIONAL_ARTICLES, ATTACHMENTS]

export const DEFAULT_STYLES = {
  transitional: 'ordinal-es',
  title: 'ordinal-es',
  chapter: 'upper-roman',
  article: 'arabic',
  paragraph: 'upper-alpha',
  subparagraph: 'arabic',
  point: 'upper-roman',
  indent: 'lower-alpha',
  attachment: 'arabic'
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

// A meta entry mapping kinds to text (JSON string, plain object or null): the kinds whose value
// `accept` takes.
function kindMap (value, accept) {
  let obj = value
  if (typeof obj === 'string') {
    try { obj = JSON.parse(obj) } catch (e) { obj = null }
  }
  const out = {}
  if (obj && typeof obj === 'object') {
    for (const kind of STYLED) {
      if (typeof obj[kind] === 'string' && accept(obj[kind])) out[kind] = obj[kind]
    }
  }
  return out
}

// Accepts the meta "numbering" value: JSON string, plain object, or null.
export function parseStyles (numbering) {
  return kindMap(numbering, v => STYLES.has(v))
}

export function isEnglish (language) {
  return typeof language === 'string' && /^(eng|en)(\b|[-_]|$)/i.test(language)
}

// The pin that marks an unnumbered unit: no number shown, no counter advanced.
export const UNNUMBERED = '-'

// The document's language as the numbering knows it: spa (the default), eng, por or fra.
export function languageOf (language) {
  if (isEnglish(language)) return 'eng'
  if (typeof language === 'string' && /^(por|pt)(\b|[-_]|$)/i.test(language)) return 'por'
  if (typeof language === 'string' && /^(fra|fre|fr)(\b|[-_]|$)/i.test(language)) return 'fra'
  return 'spa'
}

// Per language, what differs from DEFAULT_STYLES (akoma_ntoso/numbering.py says why).
const LANGUAGE_STYLES = {
  spa: {},
  eng: { title: 'arabic', transitional: 'arabic' },
  por: { title: 'upper-roman', transitional: 'arabic', paragraph: 'arabic' },
  fra: { title: 'upper-roman', transitional: 'arabic', paragraph: 'upper-roman', point: 'arabic' }
}

export function stylesFor (language, overrides) {
  const styles = Object.assign({}, DEFAULT_STYLES, LANGUAGE_STYLES[languageOf(language)])
  return Object.assign(styles, overrides || {})
}

// Label templates per language ("{}" is the number), as akoma_ntoso/numbering.py has them.
const SHORT_LABELS = { paragraph: '{}.', subparagraph: '{}.', point: '{}.', indent: '{})' }
const LABELS = {
  spa: { title: 'TÍTULO {}', chapter: 'CAPÍTULO {}', article: 'Artículo {}', [TRANSITIONAL_ARTICLES]: 'Artículo {} transitorio', ...SHORT_LABELS },
  eng: { title: 'TITLE {}', chapter: 'CHAPTER {}', article: 'Article {}', [TRANSITIONAL_ARTICLES]: 'Transitional article {}', ...SHORT_LABELS },
  por: { title: 'TÍTULO {}', chapter: 'CAPÍTULO {}', article: 'Art. {}', [TRANSITIONAL_ARTICLES]: 'Art. {} (transitório)', ...SHORT_LABELS, paragraph: '§ {}', point: '{} -' },
  fra: { title: 'TITRE {}', chapter: 'CHAPITRE {}', article: 'Article {}', [TRANSITIONAL_ARTICLES]: 'Article {} (transitoire)', ...SHORT_LABELS, subparagraph: '{}°' }
}

// Schedules' labels, as akoma_ntoso/numbering.py has them.
const ATTACHMENT_LABELS = { spa: 'ANEXO {}', eng: 'Schedule {}', por: 'ANEXO {}', fra: 'ANNEXE {}' }
for (const [lang, template] of Object.entries(ATTACHMENT_LABELS)) LABELS[lang][ATTACHMENTS] = template

// The label shown for a unit with number `num` (already formatted or pinned); `labels` (meta's
// `labels`, from parseLabels) gives the document's own label of a kind ("PART {}", "SEC. {}.").
export function formatLabel (kind, num, language, labels) {
  const template = (labels && labels[kind]) || LABELS[languageOf(language)][kind]
  return template ? template.replace('{}', () => num) : ''
}

// Accepts meta's "labels" value (JSON string, plain object or null): kind → template with one "{}".
export function parseLabels (labels) {
  return kindMap(labels, v => v.split('{}').length === 2 && v.length <= 40)
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
  const labels = parseLabels(opts.labels)
  const out = []
  let articleCounter = 0
  const walk = (nodes, parentKind, depth) => {
    const counters = {}
    for (const node of nodes) {
      const kind = node.kind
      let num = ''
      if (UNIT_KINDS.includes(kind) || kind === ATTACHMENTS) {
        const pin = typeof node.pin === 'string' ? node.pin.trim() : ''
        if (pin === UNNUMBERED) {
          num = '' // a unit the source leaves unnumbered (docs/document-model.md)
        } else if (pin) {
          num = pin
        } else if (kind === 'article' && parentKind === 'transitional') {
          counters.article = (counters.article || 0) + 1 // transitory articles count within their group
          num = formatNumber(counters.article, styles.transitional)
        } else if (kind === 'article' && parentKind === ATTACHMENTS) {
          counters.article = (counters.article || 0) + 1 // a schedule's articles count within it
          num = formatNumber(counters.article, styles.article)
        } else if (kind === 'article') {
          articleCounter += 1
          num = formatNumber(articleCounter, styles.article)
        } else {
          counters[kind] = (counters[kind] || 0) + 1
          num = formatNumber(counters[kind], styles[kind])
        }
      }
      const labelled = kind === 'article' && parentKind === 'transitional' ? TRANSITIONAL_ARTICLES : kind
      const entry = { kind, num, label: num ? formatLabel(labelled, num, language, labels) : '', depth }
      out.push(entry)
      if (node.children && node.children.length) walk(node.children, kind, depth + 1)
    }
  }
  walk(roots, null, 0)
  return out
}
