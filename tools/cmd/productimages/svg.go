package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"hash/fnv"
	"strings"
)

// The pictures are 800×800 flat illustrations: a tinted background, a
// soft disc, a few confetti dots, a shadow and the category's pictogram on
// top. Every number is an integer and every colour comes from integer
// arithmetic, so the bytes are the same on every machine. Nothing is text
// but the <title> (the product's name, for screen readers): no fonts, no
// scripts, no links, no raster data.

// category is how the pictures of one category look.
type category struct {
	hue int // the palette's base hue, in degrees
	// pictograms are drawn in turn by keyword of the product's name, or
	// by the SKU's hash when no keyword matches.
	pictograms []pictogram
}

// pictogram is one drawing: SVG elements with colour placeholders (see
// colours.replacer) and the lower-case words of a name that pick it.
type pictogram struct {
	keywords []string
	draw     func(v variant) string
}

var categories = map[string]category{
	"kitchen":     {hue: 8, pictograms: []pictogram{{[]string{"kettle", "coffee", "press", "tea"}, kettle}, {[]string{"skillet", "pan", "wok"}, pan}}},
	"home-office": {hue: 212, pictograms: []pictogram{{[]string{"lamp", "light"}, deskLamp}, {[]string{"monitor", "keyboard", "desk", "mouse"}, monitor}}},
	"outdoor":     {hue: 120, pictograms: []pictogram{{nil, tent}}},
	"audio":       {hue: 262, pictograms: []pictogram{{[]string{"headphone", "earbud", "in-ear", "microphone"}, headphones}, {[]string{"speaker", "soundbar", "turntable"}, speaker}}},
	"apparel":     {hue: 330, pictograms: []pictogram{{[]string{"sweater", "jacket", "hoodie"}, longSleeve}, {nil, tshirt}}},
	"fitness":     {hue: 172, pictograms: []pictogram{{nil, dumbbell}}},
	"books":       {hue: 32, pictograms: []pictogram{{[]string{"handbook", "guide", "journal", "atlas"}, book}, {[]string{"harbor", "colony", "finance"}, bookStack}}},
	"toys":        {hue: 50, pictograms: []pictogram{{[]string{"game", "card", "puzzle"}, gamePiece}, {[]string{"block", "tile", "train"}, blocks}}},
}

// parcel draws a product of a category with no pictogram of its own.
var parcelCategory = category{hue: 200, pictograms: []pictogram{{nil, parcel}}}

// variant is what varies from product to product: bits of the SKU's hash.
type variant uint32

// bits returns n (at most 8) bits of v from bit at.
func (v variant) bits(at, n uint) int { return int(uint32(v)>>at) & (1<<n - 1) }

func skuHash(sku string) variant {
	h := fnv.New32a()
	h.Write([]byte(strings.ToUpper(sku)))
	// FNV's low bits mix poorly for inputs that differ in the last
	// character; fold the high half in.
	x := h.Sum32()
	x ^= x >> 15
	x *= 0x2c1b3c6d
	x ^= x >> 12
	return variant(x)
}

func drawProduct(p product) ([]byte, error) {
	cat, ok := categories[p.Category]
	if !ok {
		cat = parcelCategory
	}
	v := skuHash(p.SKU)
	pic := choose(cat.pictograms, p.Name, v)
	c := palette(cat.hue, v)

	var b bytes.Buffer
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" width="800" height="800" viewBox="0 0 800 800" role="img" aria-labelledby="title">` + "\n")
	b.WriteString(`<title id="title">`)
	if err := xml.EscapeText(&b, []byte(p.Name)); err != nil {
		return nil, err
	}
	b.WriteString("</title>\n")
	body := `<rect width="800" height="800" fill="{BG}"/>
<circle cx="400" cy="410" r="300" fill="{DISC}"/>
` + confetti(v) + `<ellipse cx="400" cy="642" rx="230" ry="22" fill="{D}" opacity=".14"/>
` + pic.draw(v)
	b.WriteString(c.replacer().Replace(body))
	b.WriteString("</svg>\n")
	return b.Bytes(), nil
}

// choose picks the first pictogram with a keyword in name, else one by v.
func choose(pics []pictogram, name string, v variant) pictogram {
	lower := strings.ToLower(name)
	for _, p := range pics {
		for _, k := range p.keywords {
			if strings.Contains(lower, k) {
				return p
			}
		}
	}
	return pics[v.bits(24, 8)%len(pics)]
}

// confetti are three small shapes around the disc, placed by v.
func confetti(v variant) string {
	spots := [][2]int{{110, 130}, {690, 120}, {115, 690}, {700, 700}, {80, 420}, {725, 400}, {400, 62}, {250, 745}}
	var b strings.Builder
	first := v.bits(16, 3)
	for i := range 3 {
		s := spots[(first+i*3)%len(spots)]
		r := 12 + v.bits(uint(2*i), 2)*6
		switch (v.bits(19, 3) + i) % 3 {
		case 0:
			fmt.Fprintf(&b, `<circle cx="%d" cy="%d" r="%d" fill="{A}" opacity=".55"/>`, s[0], s[1], r)
		case 1:
			fmt.Fprintf(&b, `<circle cx="%d" cy="%d" r="%d" fill="none" stroke="{M}" stroke-width="8" opacity=".45"/>`, s[0], s[1], r)
		default:
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" rx="6" fill="{P}" transform="rotate(30 %d %d)"/>`, s[0]-r, s[1]-r, 2*r, 2*r, s[0], s[1])
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// colours are a product's palette as #rrggbb.
type colours struct {
	bg, disc, main, pale, accent, third, dark string
}

// palette derives a product's colours from its category's hue: the hue
// moves by up to ±16°, the accent sits at one of four angles from it.
func palette(hue int, v variant) colours {
	h := hue + v.bits(8, 5) - 16
	accent := h + []int{150, 180, 205, 40}[v.bits(13, 2)]
	return colours{
		bg:     hsl(h, 40, 96),
		disc:   hsl(h, 52, 88),
		main:   hsl(h, 52+v.bits(0, 3)*2, 44+v.bits(3, 3)*2),
		pale:   hsl(h, 60, 76),
		accent: hsl(accent, 62, 56),
		third:  hsl(accent+90, 55, 60),
		dark:   hsl(h, 32, 24),
	}
}

func (c colours) replacer() *strings.Replacer {
	return strings.NewReplacer("{BG}", c.bg, "{DISC}", c.disc, "{M}", c.main, "{P}", c.pale,
		"{A}", c.accent, "{T}", c.third, "{D}", c.dark, "{W}", "#fffdf7")
}

// hsl converts a colour (hue in degrees, saturation and lightness in
// percent) to #rrggbb, in integers.
func hsl(h, s, l int) string {
	h = ((h % 360) + 360) % 360
	const one = 10000
	S, L := s*one/100, l*one/100
	c := (one - abs(2*L-one)) * S / one
	hp := h * one / 60 // sextants, in 1/one
	x := c * (one - abs(hp%(2*one)-one)) / one
	m := L - c/2
	var r, g, b int
	switch hp / one {
	case 0:
		r, g, b = c, x, 0
	case 1:
		r, g, b = x, c, 0
	case 2:
		r, g, b = 0, c, x
	case 3:
		r, g, b = 0, x, c
	case 4:
		r, g, b = x, 0, c
	default:
		r, g, b = c, 0, x
	}
	byte8 := func(v int) int { return ((v+m)*255 + one/2) / one }
	return fmt.Sprintf("#%02x%02x%02x", byte8(r), byte8(g), byte8(b))
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// The pictograms, each standing on the shadow at y≈630. Placeholders: {M}
// main, {P} pale, {A} accent, {T} third, {D} dark, {W} off-white, {DISC}
// the disc behind.

func kettle(v variant) string {
	return `<path d="M320 335C320 212 480 212 480 335" fill="none" stroke="{D}" stroke-width="28" stroke-linecap="round"/>
<path d="M300 382L228 318Q210 306 203 326L282 520Z" fill="{M}"/>
<path d="M300 340H500Q520 340 523 360L548 600Q551 630 521 630H279Q249 630 252 600L277 360Q280 340 300 340Z" fill="{M}"/>
<path d="M258 572H542L545 596H255Z" fill="{D}" opacity=".25"/>
<rect x="282" y="322" width="236" height="28" rx="14" fill="{D}"/>
<circle cx="400" cy="310" r="19" fill="{A}"/>
<rect x="314" y="385" width="24" height="165" rx="12" fill="#fff" opacity=".3"/>
<circle cx="470" cy="530" r="14" fill="{A}"/>
`
}

func pan(v variant) string {
	return `<path d="M520 420L705 318" stroke="{D}" stroke-width="44" stroke-linecap="round"/>
<path d="M610 370L705 318" stroke="{A}" stroke-width="44" stroke-linecap="round"/>
<circle cx="696" cy="323" r="8" fill="{DISC}"/>
<circle cx="365" cy="445" r="182" fill="{D}"/>
<circle cx="365" cy="445" r="152" fill="{M}"/>
<path d="M262 380A120 120 0 0 1 330 322" fill="none" stroke="#fff" stroke-width="14" stroke-linecap="round" opacity=".35"/>
<path d="M292 430Q300 352 372 372Q446 350 448 430Q462 506 384 512Q300 520 292 430Z" fill="{W}"/>
<circle cx="376" cy="436" r="36" fill="#f6b332"/>
<circle cx="364" cy="424" r="9" fill="#fff" opacity=".6"/>
`
}

func deskLamp(v variant) string {
	return `<path d="M441 442L601 384L662 630H424Z" fill="{A}" opacity=".28"/>
<rect x="210" y="598" width="200" height="32" rx="16" fill="{D}"/>
<path d="M310 600L280 370L480 300" fill="none" stroke="{M}" stroke-width="24" stroke-linecap="round" stroke-linejoin="round"/>
<circle cx="310" cy="598" r="20" fill="{D}"/>
<circle cx="280" cy="370" r="22" fill="{D}"/>
<circle cx="521" cy="413" r="26" fill="#fff6c8"/>
<path d="M455 290H505L565 420H395Z" fill="{M}" transform="rotate(-20 480 300)"/>
<path d="M395 420H565" stroke="{D}" stroke-width="10" stroke-linecap="round" transform="rotate(-20 480 300)"/>
<circle cx="480" cy="300" r="20" fill="{D}"/>
`
}

func monitor(v variant) string {
	return `<rect x="375" y="470" width="50" height="125" fill="{D}"/>
<rect x="290" y="590" width="220" height="32" rx="16" fill="{D}"/>
<rect x="170" y="200" width="460" height="300" rx="22" fill="{D}"/>
<rect x="192" y="222" width="416" height="256" rx="8" fill="{M}"/>
<rect x="222" y="252" width="210" height="140" rx="10" fill="{W}"/>
<rect x="222" y="252" width="210" height="26" rx="10" fill="{A}"/>
<rect x="452" y="256" width="126" height="18" rx="9" fill="{P}"/>
<rect x="452" y="290" width="92" height="18" rx="9" fill="{P}"/>
<rect x="452" y="324" width="110" height="18" rx="9" fill="{P}"/>
<rect x="222" y="412" width="356" height="40" rx="10" fill="{P}" opacity=".6"/>
<circle cx="400" cy="211" r="5" fill="{DISC}"/>
`
}

func tent(v variant) string {
	sun := [][2]int{{600, 235}, {205, 240}}[v.bits(27, 1)]
	return fmt.Sprintf(`<circle cx="%d" cy="%d" r="52" fill="{A}"/>
`, sun[0], sun[1]) + `<path d="M250 465L128 622M550 465L672 622" stroke="{D}" stroke-width="6" stroke-linecap="round"/>
<path d="M160 625L400 210L640 625Z" fill="{M}" stroke="{M}" stroke-width="16" stroke-linejoin="round"/>
<path d="M400 210L640 625H400Z" fill="{D}" opacity=".18"/>
<path d="M400 330L318 625H482Z" fill="{D}"/>
<path d="M400 330L482 625H438Z" fill="{P}"/>
<path d="M400 212V176" stroke="{D}" stroke-width="10" stroke-linecap="round"/>
`
}

func headphones(v variant) string {
	return `<path d="M235 480V400A165 165 0 0 1 565 400V480" fill="none" stroke="{D}" stroke-width="30" stroke-linecap="round"/>
<path d="M283 283A165 165 0 0 1 517 283" fill="none" stroke="{A}" stroke-width="40" stroke-linecap="round"/>
<rect x="264" y="450" width="40" height="140" rx="16" fill="{D}"/>
<rect x="496" y="450" width="40" height="140" rx="16" fill="{D}"/>
<rect x="186" y="428" width="96" height="184" rx="42" fill="{M}"/>
<rect x="518" y="428" width="96" height="184" rx="42" fill="{M}"/>
<rect x="208" y="462" width="14" height="100" rx="7" fill="#fff" opacity=".35"/>
<rect x="540" y="462" width="14" height="100" rx="7" fill="#fff" opacity=".35"/>
`
}

func speaker(v variant) string {
	return `<rect x="250" y="180" width="300" height="450" rx="36" fill="{M}"/>
<rect x="272" y="202" width="18" height="200" rx="9" fill="#fff" opacity=".25"/>
<circle cx="400" cy="290" r="52" fill="{D}"/>
<circle cx="400" cy="290" r="26" fill="{A}"/>
<circle cx="400" cy="480" r="118" fill="{D}"/>
<circle cx="400" cy="480" r="88" fill="{P}"/>
<circle cx="400" cy="480" r="44" fill="{A}"/>
<circle cx="400" cy="480" r="18" fill="{D}"/>
`
}

// tshirt and longSleeve are the same top with short or long sleeves.
func tshirt(v variant) string {
	return top(v, `M300 215L200 250L135 370L215 410L262 350V625H538V350L585 410L665 370L600 250L500 215Q400 290 300 215Z`,
		`<path d="M135 370L215 410M585 410L665 370" stroke="{A}" stroke-width="14"/>`)
}

func longSleeve(v variant) string {
	return top(v, `M300 215L225 245Q185 262 178 320L150 598L218 610L262 390V625H538V390L582 610L650 598L622 320Q615 262 575 245L500 215Q400 290 300 215Z`,
		`<path d="M152 578L218 590M582 590L648 578" stroke="{A}" stroke-width="16"/>`)
}

func top(v variant, outline, cuffs string) string {
	shape := `<path d="` + outline + `" fill="{M}" stroke="{M}" stroke-width="12" stroke-linejoin="round"/>
`
	var deco string
	switch v.bits(25, 2) {
	case 0:
		deco = `<rect x="262" y="440" width="276" height="44" fill="{A}"/>
<rect x="262" y="500" width="276" height="16" fill="{A}" opacity=".6"/>
`
	case 1:
		deco = `<rect x="446" y="372" width="62" height="66" rx="8" fill="{A}"/>
`
	case 2:
		deco = `<circle cx="400" cy="450" r="62" fill="{A}"/>
<circle cx="400" cy="450" r="30" fill="{P}"/>
`
	default:
		deco = `<path d="M262 560H538V625H262Z" fill="{D}" opacity=".2"/>
` + cuffs + "\n"
	}
	return shape + deco + `<path d="M300 215Q400 290 500 215" fill="none" stroke="{D}" stroke-width="14" stroke-linecap="round"/>
`
}

func dumbbell(v variant) string {
	angle := -10 - v.bits(28, 2)*6
	return fmt.Sprintf(`<g transform="rotate(%d 400 410)">
`, angle) + `<rect x="196" y="394" width="408" height="32" rx="16" fill="{D}"/>
<rect x="228" y="335" width="44" height="150" rx="14" fill="{A}"/>
<rect x="528" y="335" width="44" height="150" rx="14" fill="{A}"/>
<rect x="270" y="292" width="60" height="236" rx="18" fill="{M}"/>
<rect x="470" y="292" width="60" height="236" rx="18" fill="{M}"/>
<rect x="282" y="310" width="12" height="120" rx="6" fill="#fff" opacity=".3"/>
<rect x="482" y="310" width="12" height="120" rx="6" fill="#fff" opacity=".3"/>
<path d="M360 398V422M380 398V422M400 398V422M420 398V422M440 398V422" stroke="{P}" stroke-width="5" opacity=".7"/>
</g>
`
}

func book(v variant) string {
	emblem := []string{
		`<circle cx="415" cy="465" r="44" fill="{A}"/>`,
		`<path d="M415 415L465 465L415 515L365 465Z" fill="{A}"/>`,
		`<path d="M360 500Q415 400 470 500Z" fill="{A}"/>`,
		`<rect x="372" y="425" width="86" height="86" rx="43" fill="none" stroke="{A}" stroke-width="16"/>`,
	}[v.bits(29, 2)]
	return `<rect x="270" y="205" width="300" height="410" rx="14" fill="{W}" stroke="{D}" stroke-width="4" stroke-opacity=".2"/>
<path d="M560 230V600M555 240V605" stroke="{D}" stroke-width="2" opacity=".15"/>
<path d="M470 590V665L490 648L510 665V590Z" fill="{A}"/>
<rect x="240" y="190" width="300" height="410" rx="16" fill="{M}"/>
<rect x="240" y="190" width="56" height="410" rx="16" fill="{D}"/>
<rect x="270" y="190" width="26" height="410" fill="{D}"/>
<rect x="332" y="258" width="170" height="92" rx="10" fill="{P}"/>
<rect x="354" y="284" width="126" height="14" rx="7" fill="{D}" opacity=".5"/>
<rect x="354" y="312" width="88" height="14" rx="7" fill="{D}" opacity=".5"/>
` + emblem + "\n"
}

func bookStack(v variant) string {
	return `<rect x="190" y="540" width="420" height="86" rx="10" fill="{M}"/>
<rect x="228" y="455" width="352" height="86" rx="10" fill="{A}"/>
<rect x="206" y="370" width="384" height="86" rx="10" fill="{T}"/>
<path d="M226 540V626M574 540V626M264 455V541M546 455V541M242 370V456M556 370V456" stroke="#fff" stroke-width="10" opacity=".4"/>
<rect x="340" y="570" width="120" height="26" rx="6" fill="#fff" opacity=".65"/>
<rect x="344" y="485" width="120" height="26" rx="6" fill="#fff" opacity=".65"/>
<rect x="338" y="400" width="120" height="26" rx="6" fill="#fff" opacity=".65"/>
`
}

func blocks(v variant) string {
	return `<rect x="190" y="430" width="200" height="200" rx="24" fill="{M}"/>
<rect x="410" y="430" width="200" height="200" rx="24" fill="{A}"/>
<rect x="300" y="220" width="200" height="200" rx="24" fill="{T}"/>
<circle cx="290" cy="530" r="55" fill="#fff" opacity=".75"/>
<path d="M510 470L568 582H452Z" fill="#fff" opacity=".75"/>
<path d="M385 265H415V305H455V335H415V375H385V335H345V305H385Z" fill="#fff" opacity=".75"/>
`
}

func gamePiece(v variant) string {
	return `<g transform="rotate(12 552 572)">
<rect x="495" y="515" width="115" height="115" rx="22" fill="{W}" stroke="{D}" stroke-width="6" stroke-opacity=".25"/>
<circle cx="522" cy="542" r="11" fill="{D}"/>
<circle cx="552" cy="572" r="11" fill="{D}"/>
<circle cx="582" cy="602" r="11" fill="{D}"/>
</g>
<rect x="210" y="575" width="260" height="52" rx="26" fill="{D}"/>
<path d="M275 575Q285 470 310 410H370Q395 470 405 575Z" fill="{M}"/>
<rect x="265" y="385" width="150" height="34" rx="17" fill="{D}"/>
<circle cx="340" cy="318" r="80" fill="{M}"/>
<circle cx="312" cy="290" r="20" fill="#fff" opacity=".4"/>
<rect x="300" y="450" width="14" height="100" rx="7" fill="#fff" opacity=".3"/>
`
}

func parcel(v variant) string {
	return `<rect x="230" y="330" width="340" height="295" rx="14" fill="{M}"/>
<rect x="210" y="290" width="380" height="74" rx="12" fill="{D}"/>
<rect x="375" y="290" width="50" height="335" fill="{A}"/>
`
}
