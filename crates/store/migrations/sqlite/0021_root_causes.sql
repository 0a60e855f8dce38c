-- The office's list of root causes: what kept going wrong, recorded when a case closes (as the
-- case fact `root_cause`, with the fact `outcome`: consumer_favour, partly, not_in_favour or
-- referred). Administrators add to it; a cause no longer used is made inactive, never deleted,
-- so that old cases keep their meaning.
CREATE TABLE root_causes (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_es TEXT,
    position INTEGER NOT NULL DEFAULT 100,
    active INTEGER NOT NULL DEFAULT 1
);
INSERT INTO root_causes (code, name, name_es, position) VALUES
    ('billing_error', 'Billing error', 'Error de facturación', 10),
    ('estimated_or_misread_meter', 'Estimated or misread meter', 'Lectura estimada o errónea del medidor', 20),
    ('payment_misapplied', 'Payment misapplied', 'Pago mal aplicado', 30),
    ('service_delay', 'Service delay or missed appointment', 'Demora en el servicio o cita incumplida', 40),
    ('unauthorized_change', 'Unauthorized change of provider or service', 'Cambio de proveedor o servicio no autorizado', 50),
    ('shutoff_procedure', 'Shut-off procedure not followed', 'Procedimiento de corte no respetado', 60),
    ('poor_communication', 'Poor communication by the company', 'Mala comunicación de la empresa', 70),
    ('policy_or_tariff', 'Company policy or tariff as applied', 'Política o tarifa de la empresa aplicada', 80),
    ('consumer_misunderstanding', 'Consumer misunderstood the terms', 'El consumidor malinterpretó las condiciones', 90),
    ('outside_jurisdiction', 'Outside the office''s jurisdiction', 'Fuera de la competencia de la oficina', 100),
    ('other', 'Other', 'Otra', 999);
-- Reports read facts by name.
CREATE INDEX case_facts_name ON case_facts (name, value);
