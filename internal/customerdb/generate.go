package customerdb

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Layouts of the stored timestamps and dates (Laravel's).
const (
	TimeLayout = "2006-01-02 15:04:05"
	DateLayout = "2006-01-02"
)

// Epoch is the simulated time of hour 0: the initial rows were created
// between 2019 and Epoch, and Churn's hour h (h >= 1) happens in the hour
// before Epoch + h hours.
func Epoch() time.Time { return time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC) }

// HourTime is the simulated time at the end of hour h, when its backup runs.
func HourTime(h int) time.Time { return Epoch().Add(time.Duration(h) * time.Hour) }

func historyStart() time.Time { return time.Date(2019, 1, 1, 8, 0, 0, 0, time.UTC) }

// The value lists are plain ASCII without tabs, backslashes or double
// quotes, so the COPY text needs no escapes and sqlite3's .import reads it
// as is (the benchmark relies on that for the restic side).
var (
	firstNames = strings.Fields(`Anna Ben Chloe David Emma Farid Grace Hugo Ines Jonas Kira Luca Mia Noah Olga
		Pavel Quinn Rosa Sven Tara Uwe Vera Wim Xenia Yusuf Zoe Aisha Bruno Carla Dmitri Elena Felix Greta
		Hannah Igor Julia Karim Lena Marco Nina Oskar Paula Rafael Sofia Tobias Ulla Viktor Wanda Yara
		Ahmed Bianca Cem Daniela Emil Fatima Georg Helga Ivan Jana Klaus Laura Mehmet Nora Otto Petra`)
	lastNames = strings.Fields(`Meyer Schmidt Novak Rossi Garcia Smith Kowalski Jensen Dubois Silva Yilmaz
		Horvat Berg Costa Weber Fischer Wagner Becker Hoffmann Schulz Koch Richter Klein Wolf Neumann
		Schwarz Zimmermann Braun Krueger Hofmann Hartmann Lange Schmitt Werner Krause Meier Lehmann Huber
		Kaiser Fuchs Peters Lang Scholz Moeller Weiss Jung Hahn Vogel Friedrich Keller Guenther Frank Berger
		Winkler Roth Beck Lorenz Baumann Franke Albrecht Schuster Simon Ludwig Boehm Winter Kraus Martin
		Schumacher Kraemer Vogt Stein Jaeger Otto Sommer Gross Seidel Heinrich Brandt Haas Schreiber Graf
		Bernard Moreau Laurent Lefebvre Leroy Ferrari Russo Bianchi Romano Nowak Wojcik Dvorak Svoboda`)
	streets      = strings.Fields(`Linden Birken Eichen Garten Schul Kirch Bahnhof Berg Feld Wiesen Rosen Muehlen Post Markt Wald Sonnen Ahorn Tannen Buchen Kastanien Hafen Brunnen Schiller Goethe Mozart Beethoven Kant Lessing`)
	streetKinds  = []string{"strasse", "weg", "allee", "platz", "gasse", "ring", "damm"}
	emailDomains = []string{"example.com", "example.net", "example.org", "mail.example", "post.example", "inbox.example"}
	companyKinds = []string{"GmbH", "AG", "KG", "GmbH & Co. KG", "Consulting", "Handel", "Logistik", "Bau GmbH", "IT-Service", "Praxis"}
	pmTypes      = []string{"visa", "visa", "mastercard", "mastercard", "amex", "sepa_debit", "paypal"}
	noteLines    = []string{
		"Prefers contact by e-mail.",
		"Called about the invoice, resolved.",
		"Asked for a paper invoice every quarter.",
		"VIP: handle requests with priority.",
		"Moved recently, address verified by phone.",
		"Interested in the family plan.",
		"Complained about the outage on the 3rd, credited one month.",
		"Payment reminder sent twice.",
		"Wants to be called after 17:00 only.",
		"Referred by an existing customer.",
		"Upgrade offered, will decide next month.",
		"Direct debit mandate signed.",
		"Uses the mobile app, no paper mail.",
		"Billing address differs from service address.",
		"Technician visit scheduled.",
		"Contract renewal due soon.",
		"Do not send marketing mail.",
		"Account reviewed by support lead.",
		"Discount agreed with sales, see ticket.",
		"Language preference: English.",
	}
	countries = []struct {
		code, phone string
		cities      []string
		postal      int // digits of the postal code
	}{
		{"DE", "+49", []string{"Berlin", "Hamburg", "Muenchen", "Koeln", "Frankfurt am Main", "Stuttgart", "Leipzig", "Dresden", "Hannover", "Nuernberg", "Bremen", "Essen"}, 5},
		{"DE", "+49", []string{"Dortmund", "Duesseldorf", "Bonn", "Mannheim", "Karlsruhe", "Augsburg", "Freiburg im Breisgau", "Kiel", "Rostock", "Erfurt"}, 5},
		{"AT", "+43", []string{"Wien", "Graz", "Linz", "Salzburg", "Innsbruck", "Klagenfurt"}, 4},
		{"CH", "+41", []string{"Zuerich", "Basel", "Bern", "Luzern", "St. Gallen", "Winterthur"}, 4},
		{"NL", "+31", []string{"Amsterdam", "Rotterdam", "Utrecht", "Eindhoven", "Den Haag"}, 4},
		{"FR", "+33", []string{"Strasbourg", "Lyon", "Paris", "Lille", "Metz"}, 5},
		{"PL", "+48", []string{"Warszawa", "Wroclaw", "Poznan", "Szczecin", "Gdansk"}, 5},
	}
	locales       = []string{"de", "de", "de", "en", "en", "fr", "nl", "pl"}
	categoryNames = []string{"Internet", "Mobile", "Television", "Telephony", "Cloud Storage", "Security", "Smart Home", "Support Plans", "Hardware Rental", "Business Services", "Streaming", "Insurance"}
	tiers         = []string{"Basic", "Plus", "Pro", "Premium", "Max"}
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

func digits(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + rng.IntN(10))
	}
	return string(b)
}

func stripeID(rng *rand.Rand) string {
	b := []byte("cus_")
	for range 14 {
		b = append(b, base62[rng.IntN(len(base62))])
	}
	return string(b)
}

func note(rng *rand.Rand) string {
	n := 1 + rng.IntN(3)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = pick(rng, noteLines)
	}
	return strings.Join(parts, " ")
}

// null returns nil (NULL) with probability p, else v.
func null(rng *rand.Rand, p float64, v func() any) any {
	if rng.Float64() < p {
		return nil
	}
	return v()
}

func emailLocal(s string) string {
	return strings.NewReplacer("'", "", " ", "").Replace(strings.ToLower(s))
}

// customer returns the column values of a customer created at created
// and last updated at updated, in the order of insertCustomer.
func customer(rng *rand.Rand, id int64, created, updated time.Time) []any {
	first, last := pick(rng, firstNames), pick(rng, lastNames)
	c := pick(rng, countries)
	status := "active"
	switch r := rng.IntN(100); {
	case r < 8:
		status = "lead"
	case r < 12:
		status = "suspended"
	case r < 25:
		status = "cancelled"
	}
	hasCard := status != "lead" && rng.IntN(10) < 7
	card := func(v func() any) any {
		if !hasCard {
			return nil
		}
		return v()
	}
	return []any{
		id, first, last,
		emailLocal(first) + "." + emailLocal(last) + strconv.FormatInt(id, 10) + "@" + pick(rng, emailDomains),
		null(rng, 0.1, func() any { return c.phone + " " + strconv.Itoa(150+rng.IntN(30)) + " " + digits(rng, 7+rng.IntN(2)) }),
		null(rng, 0.7, func() any { return pick(rng, lastNames) + " " + pick(rng, companyKinds) }),
		pick(rng, streets) + pick(rng, streetKinds) + " " + strconv.Itoa(1+rng.IntN(180)),
		null(rng, 0.85, func() any {
			return pick(rng, []string{"Apt ", "Floor ", "c/o Unit ", "Building "}) + strconv.Itoa(1+rng.IntN(40))
		}),
		digits(rng, c.postal), pick(rng, c.cities), c.code,
		null(rng, 0.15, func() any {
			return time.Date(1940+rng.IntN(66), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC).Format(DateLayout)
		}),
		status, int64(rng.IntN(41) * 250),
		card(func() any { return stripeID(rng) }),
		card(func() any { return pick(rng, pmTypes) }),
		card(func() any { return digits(rng, 4) }),
		null(rng, 0.45, func() any { return note(rng) }),
		pick(rng, locales), int64(rng.IntN(3) / 2),
		null(rng, 0.2, func() any { return created.Add(time.Duration(rng.IntN(7200)) * time.Second).Format(TimeLayout) }),
		null(rng, 0.25, func() any { return between(rng, updated, Epoch().Add(-time.Hour)).Format(TimeLayout) }),
		created.Format(TimeLayout), updated.Format(TimeLayout),
		deletedAt(rng, status, updated),
	}
}

// deletedAt soft-deletes a few cancelled customers (Laravel's SoftDeletes).
func deletedAt(rng *rand.Rand, status string, updated time.Time) any {
	if status != "cancelled" || rng.IntN(4) != 0 {
		return nil
	}
	return updated.Format(TimeLayout)
}

// contractNumber is the number printed on a service's contract: year and
// the service's id, which keeps it unique.
func contractNumber(id int64, created time.Time) string {
	return fmt.Sprintf("K-%s-%08d", created.Format("2006"), id)
}

// service returns the column values of a customer service, in the order
// of insertService.
func service(rng *rand.Rand, id, customerID int64, pkg packageRow, created, updated time.Time) []any {
	status := "active"
	switch r := rng.IntN(100); {
	case r < 3:
		status = "pending"
	case r < 8:
		status = "suspended"
	case r < 22:
		status = "cancelled"
	}
	discount := int64(0)
	if rng.IntN(5) == 0 {
		discount = int64(pick(rng, []int{5, 10, 10, 15, 20, 25, 50}))
	}
	price := float64(pkg.cents*(100-discount)/100) / 100
	started := created.Add(time.Duration(rng.IntN(14*24)) * time.Hour)
	var ends, next any
	if status == "cancelled" {
		ends = started.AddDate(0, 1+rng.IntN(36), 0).Format(DateLayout)
	} else {
		next = Epoch().AddDate(0, 0, rng.IntN(31)).Format(DateLayout)
	}
	return []any{
		id, contractNumber(id, created), customerID, pkg.id, status, price, discount,
		started.Format(DateLayout), ends, next, int64(1 - rng.IntN(5)/4),
		null(rng, 0.85, func() any { return pick(rng, noteLines) }),
		created.Format(TimeLayout), updated.Format(TimeLayout),
	}
}

// between returns a time uniformly between a and b.
func between(rng *rand.Rand, a, b time.Time) time.Time {
	if !b.After(a) {
		return a
	}
	return a.Add(time.Duration(rng.Int64N(int64(b.Sub(a)/time.Second))) * time.Second)
}

type packageRow struct {
	id    int64
	cents int64
}
