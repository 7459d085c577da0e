package main

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// The simulated table: a business's customers, exported as CSV in primary
// key order. Values are drawn from small vocabularies, as real columns are,
// so the export compresses like real data (about 4-5x with zstd).
var (
	firstNames = strings.Fields(`James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth
		William Barbara Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel
		Nancy Matthew Betty Anthony Sandra Mark Margaret Donald Ashley Steven Kimberly Andrew Emily Paul
		Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah Timothy Stephanie
		Ronald Rebecca Jason Sharon Edward Laura Jeffrey Cynthia Ryan Dorothy Jacob Amy Gary Kathleen
		Nicholas Angela Eric Shirley Jonathan Emma Stephen Brenda Larry Pamela Justin Nicole Scott Anna
		Brandon Samantha Benjamin Katherine Samuel Christine Gregory Debra Alexander Rachel Patrick
		Carolyn Frank Janet Raymond Maria Jack Olivia Dennis Heather Jerry Helen Tyler Catherine Aaron
		Diane Jose Julie Adam Victoria Nathan Joyce Henry Lauren Zachary Kelly Douglas Christina Peter
		Ruth Kyle Joan Noah Virginia Ethan Judith Jeremy Evelyn Walter Hannah Christian Andrea Keith
		Megan Roger Cheryl Terry Jacqueline Austin Madison Sean Teresa Gerald Abigail Carl Sophia Harold
		Martha Dylan Sara Arthur Gloria Lawrence Janice Jordan Kathryn Jesse Ann Bryan Isabella Billy
		Judy Bruce Charlotte Gabriel Julia Joe Grace Logan Amber Alan Alice Juan Jean Albert Denise`)
	lastNames = strings.Fields(`Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez
		Martinez Hernandez Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez
		Thompson White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott
		Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts
		Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy
		Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward
		Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo
		Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman
		Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton
		Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina
		Aguilar Stevens Murray Ford Castro Marshall Owens Harrison Fernandez McDonald Woods Washington`)
	streets = strings.Fields(`Maple Oak Pine Cedar Elm Washington Lake Hill Park Main Church High
		Sunset Ridge Meadow Forest River Spring Valley Willow Highland Jackson Lincoln Franklin Madison
		Jefferson Walnut Chestnut Birch Cherry Dogwood Hickory Magnolia Sycamore Laurel Aspen Poplar`)
	suffixes = []string{"St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Ct", "Way", "Pl"}
	cities   = []struct{ name, region, country string }{
		{"Springfield", "IL", "US"}, {"Portland", "OR", "US"}, {"Austin", "TX", "US"}, {"Denver", "CO", "US"},
		{"Columbus", "OH", "US"}, {"Raleigh", "NC", "US"}, {"Madison", "WI", "US"}, {"Tucson", "AZ", "US"},
		{"Boise", "ID", "US"}, {"Omaha", "NE", "US"}, {"Toronto", "ON", "CA"}, {"Calgary", "AB", "CA"},
		{"Manchester", "ENG", "GB"}, {"Leeds", "ENG", "GB"}, {"Dublin", "L", "IE"}, {"Berlin", "BE", "DE"},
		{"Hamburg", "HH", "DE"}, {"Munich", "BY", "DE"}, {"Lyon", "ARA", "FR"}, {"Lille", "HDF", "FR"},
		{"Utrecht", "UT", "NL"}, {"Antwerp", "VAN", "BE"}, {"Porto", "13", "PT"}, {"Valencia", "VC", "ES"},
		{"Turin", "TO", "IT"}, {"Krakow", "MA", "PL"}, {"Brno", "64", "CZ"}, {"Graz", "6", "AT"},
		{"Aarhus", "82", "DK"}, {"Gothenburg", "O", "SE"}, {"Sydney", "NSW", "AU"}, {"Auckland", "AUK", "NZ"},
	}
	domains  = []string{"gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "proton.me", "aol.com", "example.com", "mail.com", "gmx.net"}
	statuses = []string{"active", "active", "active", "active", "active", "active", "active", "inactive", "suspended", "churned"}
	plans    = []string{"free", "free", "basic", "basic", "basic", "pro", "pro", "enterprise"}
)

const header = "id,first_name,last_name,email,phone,street,city,region,postal_code,country,status,plan,balance,lifetime_value,created_at,updated_at\n"

// customer is one row. Strings are indexes into the vocabularies above, so
// a million rows fit in a few tens of megabytes.
type customer struct {
	id               int64
	first, last      uint16
	emailTag         uint16 // number in the email's local part; changes when the email does
	domain           uint8
	phone            uint32
	streetNo         uint16
	street, suffix   uint8
	city             uint8
	postal           uint32
	status, plan     uint8
	balance, ltv     int64 // cents
	created, updated int64 // Unix seconds
	deleted          bool
}

func newCustomer(rng *rand.Rand, id, created int64) customer {
	c := customer{
		id:       id,
		first:    uint16(rng.IntN(len(firstNames))),
		last:     uint16(rng.IntN(len(lastNames))),
		emailTag: uint16(rng.IntN(1000)),
		domain:   uint8(rng.IntN(len(domains))),
		created:  created,
		updated:  created,
		status:   uint8(rng.IntN(len(statuses))),
		plan:     uint8(rng.IntN(len(plans))),
		balance:  rng.Int64N(500000),
		ltv:      rng.Int64N(5000000),
	}
	c.moveHouse(rng)
	c.phone = uint32(rng.IntN(1e7))
	return c
}

func (c *customer) moveHouse(rng *rand.Rand) {
	c.streetNo = uint16(1 + rng.IntN(9999))
	c.street = uint8(rng.IntN(len(streets)))
	c.suffix = uint8(rng.IntN(len(suffixes)))
	c.city = uint8(rng.IntN(len(cities)))
	c.postal = uint32(rng.IntN(100000))
}

// update changes what an application typically changes about a customer:
// the balance and the update time always, now and then the status, plan,
// address, email or phone.
func (c *customer) update(rng *rand.Rand, now int64) {
	c.updated = now
	c.balance = max(0, c.balance+rng.Int64N(20000)-8000)
	c.ltv += rng.Int64N(5000)
	switch r := rng.IntN(100); {
	case r < 10:
		c.status = uint8(rng.IntN(len(statuses)))
	case r < 18:
		c.plan = uint8(rng.IntN(len(plans)))
	case r < 23:
		c.moveHouse(rng)
	case r < 26:
		c.emailTag = uint16(rng.IntN(1000))
		c.domain = uint8(rng.IntN(len(domains)))
	case r < 29:
		c.phone = uint32(rng.IntN(1e7))
	}
}

// appendCSV appends c as one CSV line.
func (c *customer) appendCSV(b []byte) []byte {
	first, last := firstNames[c.first], lastNames[c.last]
	city := cities[c.city]
	b = strconv.AppendInt(b, c.id, 10)
	b = append(b, ',')
	b = append(b, first...)
	b = append(b, ',')
	b = append(b, last...)
	b = append(b, ',')
	b = append(b, strings.ToLower(first)...)
	b = append(b, '.')
	b = append(b, strings.ToLower(last)...)
	b = strconv.AppendInt(b, int64(c.emailTag), 10)
	b = append(b, '@')
	b = append(b, domains[c.domain]...)
	b = append(b, ",+1-555-"...)
	b = appendPadded(b, int64(c.phone/10000), 3)
	b = append(b, '-')
	b = appendPadded(b, int64(c.phone%10000), 4)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(c.streetNo), 10)
	b = append(b, ' ')
	b = append(b, streets[c.street]...)
	b = append(b, ' ')
	b = append(b, suffixes[c.suffix]...)
	b = append(b, ',')
	b = append(b, city.name...)
	b = append(b, ',')
	b = append(b, city.region...)
	b = append(b, ',')
	b = appendPadded(b, int64(c.postal), 5)
	b = append(b, ',')
	b = append(b, city.country...)
	b = append(b, ',')
	b = append(b, statuses[c.status]...)
	b = append(b, ',')
	b = append(b, plans[c.plan]...)
	b = append(b, ',')
	b = appendCents(b, c.balance)
	b = append(b, ',')
	b = appendCents(b, c.ltv)
	b = append(b, ',')
	b = time.Unix(c.created, 0).UTC().AppendFormat(b, time.RFC3339)
	b = append(b, ',')
	b = time.Unix(c.updated, 0).UTC().AppendFormat(b, time.RFC3339)
	return append(b, '\n')
}

func appendPadded(b []byte, v int64, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], v, 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

func appendCents(b []byte, cents int64) []byte {
	b = strconv.AppendInt(b, cents/100, 10)
	b = append(b, '.')
	return appendPadded(b, cents%100, 2)
}

// table is the customer table and the churn applied to it each hour.
type table struct {
	rows   []customer // in primary key order; deleted rows stay, flagged
	live   int
	nextID int64
	now    int64
	rng    *rand.Rand
}

// simStart is the simulated time of the first export.
var simStart = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC).Unix()

// newTable creates n customers who signed up over the seven years before
// simStart, in key order.
func newTable(n int, seed uint64) *table {
	t := &table{rng: rand.New(rand.NewPCG(seed, 0x5eed)), now: simStart}
	t.rows = make([]customer, n, n+n/50)
	span := int64(7 * 365 * 24 * 3600)
	for i := range t.rows {
		created := simStart - span + span*int64(i)/int64(n)
		t.rows[i] = newCustomer(t.rng, int64(i+1), created)
		if t.rng.IntN(3) == 0 { // a third were changed since they signed up
			t.rows[i].update(t.rng, created+t.rng.Int64N(simStart-created))
		}
	}
	t.live = n
	t.nextID = int64(n + 1)
	return t
}

// export writes the table as CSV in key order, reusing buf.
func (t *table) export(buf []byte) []byte {
	buf = append(buf[:0], header...)
	for i := range t.rows {
		if !t.rows[i].deleted {
			buf = t.rows[i].appendCSV(buf)
		}
	}
	return buf
}

// churn is the shape of one hour of changes.
type churn struct {
	rate        float64 // rows changed per hour, as a fraction of live rows
	insertShare float64 // share of the changes that are new rows
	deleteShare float64 // share of the changes that are deletes
	hotShare    float64 // share of the updates that hit the newest rows
	hotFraction float64 // the newest rows: this fraction of the table
}

// advance applies one hour of churn and returns the CSV lines of the rows
// it updated or inserted (deletes leave no line).
func (t *table) advance(ch churn) []byte {
	t.now += 3600
	changes := int(ch.rate * float64(t.live))
	inserts := int(ch.insertShare * float64(changes))
	deletes := int(ch.deleteShare * float64(changes))
	updates := changes - inserts - deletes

	var changed []byte
	touched := make(map[int]bool, updates)
	for range updates {
		i := t.pick(ch)
		t.rows[i].update(t.rng, t.now-t.rng.Int64N(3600))
		touched[i] = true
	}
	for range deletes {
		i := t.pick(ch)
		t.rows[i].deleted = true
		t.live--
		delete(touched, i)
	}
	for i := range t.rows {
		if touched[i] {
			changed = t.rows[i].appendCSV(changed)
		}
	}
	for range inserts {
		c := newCustomer(t.rng, t.nextID, t.now-t.rng.Int64N(3600))
		t.nextID++
		t.rows = append(t.rows, c)
		t.live++
		changed = c.appendCSV(changed)
	}
	return changed
}

// pick returns a live row: with probability hotShare among the newest
// hotFraction of the table, else anywhere.
func (t *table) pick(ch churn) int {
	for {
		lo := 0
		if t.rng.Float64() < ch.hotShare {
			lo = len(t.rows) - int(ch.hotFraction*float64(len(t.rows)))
		}
		i := lo + t.rng.IntN(len(t.rows)-lo)
		if !t.rows[i].deleted {
			return i
		}
	}
}
