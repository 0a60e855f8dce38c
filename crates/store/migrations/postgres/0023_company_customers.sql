-- How many customers each company had in each year: what complaints per 100,000 customers are
-- counted against. A year without a figure falls back on the company's current customer count.
CREATE TABLE company_customers (
    company_id BIGINT NOT NULL REFERENCES companies(id),
    year INTEGER NOT NULL,
    customers BIGINT NOT NULL,
    set_at BIGINT NOT NULL,
    PRIMARY KEY (company_id, year)
);
