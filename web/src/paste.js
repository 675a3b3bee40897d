// Clipboard HTML from other programs (a word processor, a web page) carries style attributes,
// <style> sheets and sometimes event-handler attributes. The site's Content-Security-Policy
// refuses all of them, and Chromium checks that policy even while ProseMirror parses the HTML in
// a detached document, so every paste would log violations (nothing would run or apply: the
// schema keeps only text, headings and paragraphs). This removes them from the HTML string
// before ProseMirror parses it. It is tidiness, not the defence: the policy is.

const DROP_ELEMENTS = /<(style|script|link|meta|template|iframe|object|embed)\b[^>]*>(?:[\s\S]*?<\/\1\s*>)?/gi
// A start tag: its name, then attributes whose values may be quoted (and hold ">"); names and
// unquoted values are read as leniently as browsers read them.
const START_TAG = /<([a-zA-Z][^\s/>]*)((?:\s*[^\s/>][^\s/>=]*(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?|\s*\/)*)\s*>/g
const ATTRIBUTE = /(\s*)([^\s/>][^\s/>=]*)(\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?/g

function cleanAttributes (attrs) {
  return attrs.replace(ATTRIBUTE, (all, space, name) => /^(style|on)/i.test(name) ? '' : all)
}

export function cleanPastedHTML (html) {
  if (typeof html !== 'string' || html.indexOf('<') < 0) return html
  return html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(DROP_ELEMENTS, '')
    .replace(START_TAG, (all, name, attrs) => '<' + name + cleanAttributes(attrs) + '>')
}
