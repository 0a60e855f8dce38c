-- How many customers each company had in each year: what complaints per 100,000 customers are
-- counted against. A year without a figure falls back on the company's current customer count.
CREATE TABLE company_customers (
    company_id INTEGER NOT NULL REFERENCES companies(id),
    year INTEGER NOT NULL,
    customers INTEGER NOT NULL,
    set_at INTEGER NOT NULL,
    PRIMARY KEY (company_id, year)
);
