package web

import "strings"

// formField is one labelled input as the "field" template renders it, with
// its hint and error tied to it for screen readers.
type formField struct {
	ID, Name, Label, Type, Value string
	Autocomplete, InputMode      string
	Hint, Error, Pattern         string
	Required                     bool
	MinLength, MaxLength         int
}

// DescribedBy lists the ids of the field's hint and error.
func (f formField) DescribedBy() string {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, f.ID+"-hint")
	}
	if f.Error != "" {
		ids = append(ids, f.ID+"-error")
	}
	return strings.Join(ids, " ")
}

// SignInFields are the sign-in form's inputs.
func (f authForm) SignInFields() []formField {
	return []formField{
		{ID: "email", Name: "email", Label: "E-mail address", Type: "email", Value: f.Email, Autocomplete: "username", Required: true, MaxLength: 254, Error: f.Errors["email"]},
		{ID: "password", Name: "password", Label: "Password", Type: "password", Autocomplete: "current-password", Required: true, MaxLength: 1024, Error: f.Errors["password"]},
	}
}

// SignUpFields are the sign-up form's inputs.
func (f authForm) SignUpFields() []formField {
	return []formField{
		{ID: "name", Name: "name", Label: "Your name", Type: "text", Value: f.Name, Autocomplete: "name", Required: true, MaxLength: 100, Error: f.Errors["name"]},
		{ID: "email", Name: "email", Label: "E-mail address", Type: "email", Value: f.Email, Autocomplete: "email", Required: true, MaxLength: 254, Error: f.Errors["email"]},
		{ID: "password", Name: "password", Label: "Password", Type: "password", Autocomplete: "new-password", Required: true,
			MinLength: minPassword, MaxLength: 128, Hint: "At least 10 characters. A few unrelated words make a strong one.", Error: f.Errors["password"]},
	}
}

// AddressFields are the checkout's shipping address inputs.
func (c checkoutContent) AddressFields() []formField {
	a := c.Address
	return []formField{
		{ID: "name", Name: "name", Label: "Full name", Type: "text", Value: a.Name, Autocomplete: "shipping name", Required: true, MaxLength: 100, Error: c.Errors["name"]},
		{ID: "line1", Name: "line1", Label: "Street address", Type: "text", Value: a.Line1, Autocomplete: "shipping address-line1", Required: true, MaxLength: 200, Error: c.Errors["line1"]},
		{ID: "line2", Name: "line2", Label: "Apartment, suite, etc.", Type: "text", Value: a.Line2, Autocomplete: "shipping address-line2", MaxLength: 200, Error: c.Errors["line2"]},
		{ID: "city", Name: "city", Label: "Town or city", Type: "text", Value: a.City, Autocomplete: "shipping address-level2", Required: true, MaxLength: 100, Error: c.Errors["city"]},
		{ID: "postal_code", Name: "postal_code", Label: "Postal code", Type: "text", Value: a.PostalCode, Autocomplete: "shipping postal-code", Required: true, MaxLength: 20, Error: c.Errors["postal_code"]},
		{ID: "country", Name: "country", Label: "Country code", Type: "text", Value: a.Country, Autocomplete: "shipping country", Required: true,
			MinLength: 2, MaxLength: 2, Pattern: "[A-Za-z]{2}", Hint: "Two letters, such as DE, GB or US.", Error: c.Errors["country"]},
	}
}

// TextFields are the product form's one-line inputs.
func (f productForm) TextFields() []formField {
	return []formField{
		{ID: "sku", Name: "sku", Label: "SKU", Type: "text", Value: f.SKU, Required: true, MaxLength: 64, Pattern: "[A-Za-z0-9](?:[A-Za-z0-9._\\-]*[A-Za-z0-9])?",
			Hint: "Letters, digits, '-', '_' and '.'; stored in upper case.", Error: f.Errors["sku"]},
		{ID: "name", Name: "name", Label: "Name", Type: "text", Value: f.Name, Required: true, MaxLength: 200, Error: f.Errors["name"]},
	}
}

// PriceFields are the product form's price inputs.
func (f productForm) PriceFields() []formField {
	return []formField{
		{ID: "price", Name: "price", Label: "Price", Type: "text", Value: f.Price, InputMode: "decimal", Required: true, MaxLength: 20,
			Hint: "In the currency's main unit, such as 12.50.", Error: f.Errors["price"]},
		{ID: "currency", Name: "currency", Label: "Currency", Type: "text", Value: f.Currency, Required: true, MinLength: 3, MaxLength: 3, Pattern: "[A-Za-z]{3}", Error: f.Errors["currency"]},
		{ID: "image_url", Name: "image_url", Label: "Image URL", Type: "text", Value: f.ImageURL, MaxLength: 2048,
			Hint: "A path on this site such as /images/products/kit-0001.svg, or an http(s) URL; the shop shows only its own images, others as a placeholder.", Error: f.Errors["image_url"]},
	}
}

// StockField is the stock form's input.
func (f productForm) StockField() formField {
	return formField{ID: "available", Name: "available", Label: "Units available", Type: "number", Value: f.StockValue, InputMode: "numeric", Required: true, Error: f.StockError}
}
