// Kernel HTML into inert nodes, and links the page may follow.

// What the kernel's renderer makes (nbstream/_markdown.py); anything else is dropped. An
// element counts by its namespace too: an HTML tag name inside <math> is not HTML.
const SAFE_TAGS = new Set(("a p h1 h2 h3 h4 h5 h6 ul ol li blockquote pre code em strong s del "
  + "img hr br table thead tbody tr th td input span div button sup sub").split(" "));
const SAFE_ATTRIBUTES = new Set(("class title alt loading referrerpolicy target rel start "
  + "disabled checked aria-label data-lang data-display").split(" "));
const SAFE_URL = { href: /^(?:https?:|mailto:|#)/i, src: /^(?:https?:\/\/|data:image\/(?:gif|png|jpeg|webp);)/i };
const SAFE_STYLE = /^text-align:\s*(?:left|right|center);?$/;
const SAFE_TYPE = { input: "checkbox", button: "button" };
// The MathML the kernel makes of TeX (nbstream/_math.py keeps the same lists, tested to
// agree): presentation elements and layout attributes only; no href, maction, semantics or
// annotation-xml, xlink, handler, style, class or colour.
const MATH_TAGS = new Set(("math mrow mi mn mo ms mtext mspace msub msup msubsup munder mover "
  + "munderover mfrac msqrt mroot mtable mtr mtd mstyle mpadded mphantom menclose merror").split(" "));
const MATH_ATTRIBUTES = new Set(("display mathvariant displaystyle scriptlevel stretchy fence form "
  + "largeop movablelimits accent accentunder separator lspace rspace minsize maxsize symmetric "
  + "width height depth voffset linethickness columnalign rowalign columnspacing rowspacing "
  + "columnlines rowlines frame framespacing notation linebreak").split(" "));
const MATH_VALUE = /^[\w .%+-]{0,64}$/;
const HTML_NS = "http://www.w3.org/1999/xhtml";
const MATH_NS = "http://www.w3.org/1998/Math/MathML";

/**
 * Parse HTML made by the kernel into inert nodes, keeping only the elements and attributes
 * its renderer makes: a second line of defence, should a splice ever go wrong, against
 * markup that runs script, loads from elsewhere or escapes the widget's box.
 * @param {string} html
 * @returns {DocumentFragment}
 */
export function safeFragment(html) {
  const template = document.createElement("template");
  template.innerHTML = html;
  for (const node of [...template.content.querySelectorAll("*")]) {
    const tag = node.localName;
    const math = node.namespaceURI === MATH_NS;
    if (math ? !MATH_TAGS.has(tag) || (tag === "math") === (node.parentElement?.namespaceURI === MATH_NS)
      : node.namespaceURI !== HTML_NS || !SAFE_TAGS.has(tag) || node.closest("math") !== null) {
      node.replaceWith(document.createTextNode(node.textContent || ""));
      continue;
    }
    if (math) {
      for (const { name, value } of [...node.attributes]) {
        if (!MATH_ATTRIBUTES.has(name) || !MATH_VALUE.test(value)) node.removeAttribute(name);
      }
      continue;
    }
    for (const { name, value } of [...node.attributes]) {
      const url = SAFE_URL[/** @type {keyof SAFE_URL} */ (name)];
      const type = SAFE_TYPE[/** @type {keyof SAFE_TYPE} */ (tag)];
      const ok = SAFE_ATTRIBUTES.has(name)
        || (url !== undefined && url.test(value.replace(/[\x00-\x20\x7f]+/g, "")))
        || (name === "style" && SAFE_STYLE.test(value))
        || (name === "type" && value === type);
      if (!ok) node.removeAttribute(name);
    }
    if (tag === "input" && !node.hasAttribute("disabled")) node.setAttribute("disabled", "");
  }
  return template.content;
}

/** An http(s) URL, or null. @param {unknown} url */
export function safeHref(url) {
  return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
}
