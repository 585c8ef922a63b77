package web

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/shopmesh/shopmesh/apps/storefront/gateway"
)

// adminPageSize is how many products the admin list shows at once.
const adminPageSize = 50

// maxStock is the most units the inventory API takes.
const maxStock = 1_000_000_000

var currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)

type adminListContent struct {
	Products    []gateway.Product
	Next, First string
}

func (h *Handler) adminProducts(c *gin.Context) {
	token := c.Query("page_token")
	if token != "" && !pageTokenPattern.MatchString(token) {
		h.notFound(c)
		return
	}
	pg, err := h.api.Products(c, "", adminPageSize, token)
	if err != nil {
		h.fail(c, err)
		return
	}
	content := adminListContent{Products: pg.Items}
	if pg.NextPageToken != "" {
		content.Next = "/admin/products?page_token=" + url.QueryEscape(pg.NextPageToken)
	}
	if token != "" {
		content.First = "/admin/products"
	}
	h.render(c, http.StatusOK, "admin_products", "Products", content)
}

// productForm is the create or edit form as the page shows it.
type productForm struct {
	ID                               string // "" while creating
	SKU, Name, Description, Category string
	Price, Currency, ImageURL        string
	Categories                       []gateway.Category
	Errors                           map[string]string
	Message, Notice                  string
	Stock                            *gateway.Stock // nil: no stock record yet
	StockValue                       string
	StockError                       string
	ViewURL                          string
}

var adminNotices = map[string]string{
	"created": "The product was created.",
	"saved":   "Your changes were saved.",
	"stock":   "The stock was updated.",
}

func (h *Handler) adminNewProduct(c *gin.Context) {
	h.renderProductForm(c, http.StatusOK, productForm{Currency: "USD"})
}

func (h *Handler) adminProduct(c *gin.Context) {
	p, ok := h.productParam(c)
	if !ok {
		return
	}
	form := formOf(p)
	form.Notice = adminNotices[c.Query("notice")]
	h.renderProductForm(c, http.StatusOK, form)
}

// renderProductForm adds the categories and, when editing, the stock.
func (h *Handler) renderProductForm(c *gin.Context, status int, form productForm) {
	cats, err := h.api.Categories(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	form.Categories = cats
	title := "New product"
	if form.ID != "" {
		title = "Edit " + form.Name
		form.ViewURL = "/p/" + url.PathEscape(form.ID)
		st, err := h.api.Stock(c, visitorOf(c).token(), form.ID)
		switch {
		case err == nil:
			form.Stock = &st
			if form.StockValue == "" {
				form.StockValue = strconv.FormatInt(st.Available, 10)
			}
		case gateway.StatusOf(err) == http.StatusNotFound:
			// No stock record yet; setting the stock makes one.
		default:
			h.fail(c, err)
			return
		}
	}
	h.render(c, status, "admin_product", title, form)
}

// readProductForm reads the posted fields and checks what can be checked here.
func readProductForm(c *gin.Context, id string) (productForm, gateway.ProductInput) {
	f := productForm{
		ID: id, SKU: strings.TrimSpace(c.PostForm("sku")), Name: strings.TrimSpace(c.PostForm("name")),
		Description: strings.TrimSpace(c.PostForm("description")), Category: c.PostForm("category"),
		Price: strings.TrimSpace(c.PostForm("price")), Currency: strings.ToUpper(strings.TrimSpace(c.PostForm("currency"))),
		ImageURL: strings.TrimSpace(c.PostForm("image_url")), Errors: map[string]string{},
	}
	in := gateway.ProductInput{SKU: f.SKU, Name: f.Name, Description: f.Description, Category: f.Category, ImageURL: f.ImageURL}
	if f.SKU == "" {
		f.Errors["sku"] = "Enter the SKU."
	}
	if f.Name == "" {
		f.Errors["name"] = "Enter the name."
	}
	if !categoryPattern.MatchString(f.Category) {
		f.Errors["category"] = "Choose a category."
	}
	if !currencyPattern.MatchString(f.Currency) {
		f.Errors["currency"] = "Enter a three-letter currency code, such as USD."
	} else if amount, err := parseAmount(f.Price, f.Currency); err != nil {
		f.Errors["price"] = "The price " + err.Error() + "."
	} else {
		in.Price = gateway.Money{Amount: amount, Currency: f.Currency}
	}
	return f, in
}

func (h *Handler) adminCreateProduct(c *gin.Context) {
	form, in := readProductForm(c, "")
	if len(form.Errors) > 0 {
		h.renderProductForm(c, http.StatusUnprocessableEntity, form)
		return
	}
	p, err := h.api.CreateProduct(c, visitorOf(c).token(), in)
	if err != nil {
		h.productRefused(c, form, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/products/"+url.PathEscape(p.ID)+"?notice=created")
}

func (h *Handler) adminSaveProduct(c *gin.Context) {
	id := c.Param("id")
	if !validID(id) {
		h.notFound(c)
		return
	}
	form, in := readProductForm(c, id)
	if len(form.Errors) > 0 {
		h.renderProductForm(c, http.StatusUnprocessableEntity, form)
		return
	}
	if _, err := h.api.ReplaceProduct(c, visitorOf(c).token(), id, in); err != nil {
		h.productRefused(c, form, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/products/"+url.PathEscape(id)+"?notice=saved")
}

// productFields maps the catalog's field names to the form's.
var productFields = map[string]string{
	"sku": "sku", "name": "name", "description": "description", "category": "category",
	"price": "price", "price.amount": "price", "price.currency": "currency", "image_url": "image_url",
}

// productRefused shows the catalog's reasons on the form.
func (h *Handler) productRefused(c *gin.Context, form productForm, err error) {
	var ge *gateway.Error
	if !errors.As(err, &ge) {
		h.fail(c, err)
		return
	}
	switch ge.Status {
	case http.StatusBadRequest:
		for _, fe := range ge.Problem.Errors {
			if field, ok := productFields[fe.Field]; ok {
				form.Errors[field] = sentence(fe.Detail)
			} else {
				form.Message = sentence(fe.Field + " " + fe.Detail)
			}
		}
		if len(form.Errors) == 0 && form.Message == "" {
			form.Message = sentence(ge.Problem.Detail)
		}
	case http.StatusConflict:
		form.Message = sentence(ge.Problem.Detail)
	default:
		h.fail(c, err)
		return
	}
	h.renderProductForm(c, http.StatusUnprocessableEntity, form)
}

func (h *Handler) adminSetStock(c *gin.Context) {
	id := c.Param("id")
	if !validID(id) {
		h.notFound(c)
		return
	}
	raw := strings.TrimSpace(c.PostForm("available"))
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < 0 || n > maxStock {
		h.stockRefused(c, id, raw, "Enter a whole number of units from 0 to 1,000,000,000.")
		return
	}
	if _, err := h.api.SetStock(c, visitorOf(c).token(), id, n); err != nil {
		if gateway.StatusOf(err) == http.StatusBadRequest {
			var ge *gateway.Error
			errors.As(err, &ge)
			h.stockRefused(c, id, raw, sentence(ge.Problem.Detail))
			return
		}
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/products/"+url.PathEscape(id)+"?notice=stock")
}

// stockRefused shows the edit page again with the stock form's error.
func (h *Handler) stockRefused(c *gin.Context, id, value, msg string) {
	p, err := h.api.Product(c, id)
	if err != nil {
		h.fail(c, err)
		return
	}
	form := formOf(p)
	form.StockValue, form.StockError = value, msg
	h.renderProductForm(c, http.StatusUnprocessableEntity, form)
}

// formOf is the edit form filled with p.
func formOf(p gateway.Product) productForm {
	return productForm{
		ID: p.ID, SKU: p.SKU, Name: p.Name, Description: p.Description, Category: p.Category,
		Price: majorAmount(p.Price), Currency: p.Price.Currency, ImageURL: p.ImageURL,
	}
}
