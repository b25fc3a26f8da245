package docs

import (
	"html/template"
	"strings"
)

// markdown renders the small Markdown subset the OpenAPI descriptions use:
// paragraphs, headings, "-" and "1." lists (continuation lines indented),
// fenced code blocks, `code` and **bold**. Everything else is text, escaped.
// headingShift moves headings down so that a description's "##" sits under
// the page's own headings.
func markdown(src string, headingShift int) template.HTML {
	var b strings.Builder
	var para []string // lines of the open paragraph
	var list string   // "ul", "ol" or ""
	var item []string // lines of the open list item

	flushPara := func() {
		if len(para) > 0 {
			b.WriteString("<p>" + inline(strings.Join(para, " ")) + "</p>\n")
			para = nil
		}
	}
	flushItem := func() {
		if len(item) > 0 {
			b.WriteString("<li>" + inline(strings.Join(item, " ")) + "</li>\n")
			item = nil
		}
	}
	closeList := func() {
		flushItem()
		if list != "" {
			b.WriteString("</" + list + ">\n")
			list = ""
		}
	}
	openItem := func(kind, text string) {
		flushPara()
		if list != kind {
			closeList()
			b.WriteString("<" + kind + ">\n")
			list = kind
		}
		flushItem()
		item = []string{text}
	}

	lines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "```"):
			flushPara()
			closeList()
			var code []string
			for i++; i < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[i]), "```"); i++ {
				code = append(code, lines[i])
			}
			b.WriteString("<pre><code>" + template.HTMLEscapeString(strings.Join(code, "\n")) + "</code></pre>\n")
		case trimmed == "":
			flushPara()
			closeList()
		case headingLevel(trimmed) > 0:
			flushPara()
			closeList()
			level := min(headingLevel(trimmed)+headingShift, 6)
			tag := "h" + string(rune('0'+level))
			b.WriteString("<" + tag + ">" + inline(strings.TrimSpace(strings.TrimLeft(trimmed, "#"))) + "</" + tag + ">\n")
		case strings.HasPrefix(line, "- "):
			openItem("ul", strings.TrimSpace(line[2:]))
		case orderedItem(line) != "":
			openItem("ol", orderedItem(line))
		case list != "" && strings.HasPrefix(line, " "):
			item = append(item, trimmed)
		default:
			closeList()
			para = append(para, trimmed)
		}
	}
	flushPara()
	closeList()
	return template.HTML(b.String())
}

// headingLevel is the number of leading "#" of an ATX heading, or 0.
func headingLevel(line string) int {
	n := 0
	for n < len(line) && line[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || n == len(line) || line[n] != ' ' {
		return 0
	}
	return n
}

// orderedItem returns the text of a "1. text" line, or "".
func orderedItem(line string) string {
	n := 0
	for n < len(line) && line[n] >= '0' && line[n] <= '9' {
		n++
	}
	if n == 0 || !strings.HasPrefix(line[n:], ". ") {
		return ""
	}
	return strings.TrimSpace(line[n+2:])
}

// inline escapes s and renders `code` spans and **bold**. An unpaired marker
// stays as it is.
func inline(s string) string {
	var b strings.Builder
	parts := strings.Split(s, "`")
	for i, p := range parts {
		switch {
		case i%2 == 1 && i < len(parts)-1:
			b.WriteString("<code>" + template.HTMLEscapeString(p) + "</code>")
		case i%2 == 1: // the last "`" has no partner
			b.WriteString("`" + bold(p))
		default:
			b.WriteString(bold(p))
		}
	}
	return b.String()
}

func bold(s string) string {
	var b strings.Builder
	parts := strings.Split(s, "**")
	for i, p := range parts {
		switch {
		case i%2 == 1 && i < len(parts)-1:
			b.WriteString("<strong>" + template.HTMLEscapeString(p) + "</strong>")
		case i%2 == 1:
			b.WriteString("**" + template.HTMLEscapeString(p))
		default:
			b.WriteString(template.HTMLEscapeString(p))
		}
	}
	return b.String()
}
