//! Administrators change users after the fact (name, role, unit, company, email, may sign in, a
//! new password), add company users, and keep companies and categories (with Spanish names),
//! from the pages and the API, audited.

use crate::both_stores;
use crate::harness::*;
use crate::pages::{browser, csrf, logged_in, page, post};
use redress_domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

async fn user_id(app: &TestApp, username: &str) -> i64 {
    let users: Vec<Value> = app
        .get(Role::Admin, "/api/v1/users")
        .await
        .json()
        .await
        .unwrap();
    users
        .iter()
        .find(|u| u["username"] == username)
        .and_then(|u| u["id"].as_i64())
        .unwrap()
}

both_stores!(
    administrators_change_deactivate_and_reset_users,
    async |app: &TestApp| {
        let agent = user_id(app, "agent").await;
        let admin_id = user_id(app, "admin").await;
        let agent_browser = logged_in(app, "agent").await;
        assert_eq!(page(&agent_browser, app, "/").await.0, 200);

        let b = logged_in(app, "admin").await;
        let (status, html) = page(&b, app, &format!("/admin/users/{agent}")).await;
        assert_eq!(status, 200);
        assert!(
            html.contains("value=\"Test agent\"")
                && html.contains("id=\"active\" name=\"active\" value=\"1\" checked")
        );
        let token = csrf(&html);

        // Administrators cannot lock themselves out.
        let r = post(
            &b,
            app,
            &format!("/admin/users/{admin_id}"),
            &[
                ("csrf", &token),
                ("display_name", "Test admin"),
                ("role", "agent"),
            ],
        )
        .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("href=\"#role\"") && html.contains("href=\"#active\""),
            "{html}"
        );

        // A new name, a unit and an email; then no longer signing in.
        let r = post(
            &b,
            app,
            &format!("/admin/users/{agent}"),
            &[
                ("csrf", &token),
                ("display_name", "Alex Agent"),
                ("role", "senior_agent"),
                ("unit", "CALL"),
                ("email", "alex@example.org"),
                ("active", "1"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        let me: Value = app
            .get(Role::Agent, "/api/v1/me")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(me["display_name"], "Alex Agent");
        assert_eq!(me["role"], "senior_agent");
        assert_eq!(me["unit"], "CALL");
        let r = post(
            &b,
            app,
            &format!("/admin/users/{agent}"),
            &[
                ("csrf", &token),
                ("display_name", "Alex Agent"),
                ("role", "agent"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303, "no `active`: the user no longer signs in");
        let r = agent_browser.get(app.url("/")).send().await.unwrap();
        assert_eq!(r.status(), 303, "their session ended");
        assert_eq!(
            app.get(Role::Agent, "/api/v1/me").await.status(),
            401,
            "and their token"
        );
        let (_, html) = page(&b, app, "/admin").await;
        assert!(html.contains("No longer signs in"));

        // Back, through the API; then a new password.
        let r = app
            .req(
                Role::Admin,
                Method::PATCH,
                &format!("/api/v1/users/{agent}"),
            )
            .json(&json!({"active": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(app.get(Role::Agent, "/api/v1/me").await.status(), 200);
        let r = post(
            &b,
            app,
            &format!("/admin/users/{agent}/password"),
            &[("csrf", &token), ("password", "short")],
        )
        .await;
        assert_eq!(r.status(), 422);
        let r = post(
            &b,
            app,
            &format!("/admin/users/{agent}/password"),
            &[("csrf", &token), ("password", "a brand new passphrase")],
        )
        .await;
        assert_eq!(r.status(), 303);
        let fresh = browser();
        let (_, html) = page(&fresh, app, "/login").await;
        let t = csrf(&html);
        let r = post(
            &fresh,
            app,
            "/login",
            &[
                ("csrf", &t),
                ("username", "agent"),
                ("password", "a brand new passphrase"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303, "the new password signs in");

        // Only administrators change users; every change is audited with before and after.
        let r = app
            .req(
                Role::Supervisor,
                Method::PATCH,
                &format!("/api/v1/users/{agent}"),
            )
            .json(&json!({"active": false}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        let audit = app
            .sql_texts("SELECT action || ' ' || detail FROM audit_log ORDER BY id")
            .await;
        let updates: Vec<&String> = audit
            .iter()
            .filter(|a| a.starts_with("user.update "))
            .collect();
        assert_eq!(updates.len(), 3, "{audit:?}");
        assert!(updates[0].contains("Alex Agent") && updates[0].contains("alex@example.org"));
        assert!(audit.iter().any(|a| a.starts_with("user.password ")));
    }
);

both_stores!(
    administrators_add_company_users_and_keep_companies_and_categories,
    async |app: &TestApp| {
        let b = logged_in(app, "admin").await;
        let (_, html) = page(&b, app, "/admin").await;
        let token = csrf(&html);
        // A company user needs a company.
        let r = post(
            &b,
            app,
            "/admin/users",
            &[
                ("csrf", &token),
                ("username", "grid.rep"),
                ("display_name", "Grid Representative"),
                ("role", "company"),
                ("password", "a long enough passphrase"),
            ],
        )
        .await;
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("href=\"#user_company\""));
        let r = post(
            &b,
            app,
            "/admin/users",
            &[
                ("csrf", &token),
                ("username", "grid.rep"),
                ("display_name", "Grid Representative"),
                ("role", "company"),
                ("user_company", &app.company_id.to_string()),
                ("password", "a long enough passphrase"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        let rep = browser();
        let (_, html) = page(&rep, app, "/login").await;
        let t = csrf(&html);
        post(
            &rep,
            app,
            "/login",
            &[
                ("csrf", &t),
                ("username", "grid.rep"),
                ("password", "a long enough passphrase"),
            ],
        )
        .await;
        let (_, html) = page(&rep, app, "/").await;
        assert!(html.contains("Your company&#39;s open cases"), "{html}");

        // Companies: add, then correct the customer count; a bad count is named.
        let r = post(
            &b,
            app,
            "/admin/companies",
            &[
                ("csrf", &token),
                ("name", "Central Hudson"),
                ("industry", "Energy"),
                ("customer_count", "300,000"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        let companies: Vec<Value> = app
            .get(Role::Admin, "/api/v1/companies")
            .await
            .json()
            .await
            .unwrap();
        let hudson = companies
            .iter()
            .find(|c| c["name"] == "Central Hudson")
            .unwrap();
        assert_eq!(hudson["customer_count"], 300000);
        let id = hudson["id"].as_i64().unwrap();
        let (_, html) = page(&b, app, &format!("/admin/companies?edit={id}")).await;
        assert!(html.contains("value=\"Central Hudson\""));
        let r = post(
            &b,
            app,
            &format!("/admin/companies/{id}"),
            &[
                ("csrf", &token),
                ("edit_name", "Central Hudson Gas & Electric"),
                ("edit_industry", "Energy"),
                ("edit_customer_count", "many"),
            ],
        )
        .await;
        assert_eq!(r.status(), 422);
        let r = app
            .req(
                Role::Admin,
                Method::PATCH,
                &format!("/api/v1/companies/{id}"),
            )
            .json(&json!({"name": "Central Hudson Gas & Electric", "customer_count": 310000}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let c: Value = r.json().await.unwrap();
        assert_eq!(
            (c["name"].as_str(), c["customer_count"].as_i64()),
            (Some("Central Hudson Gas & Electric"), Some(310000))
        );
        assert_eq!(
            app.req(
                Role::Agent,
                Method::PATCH,
                &format!("/api/v1/companies/{id}")
            )
            .json(&json!({"customer_count": 1}))
            .send()
            .await
            .unwrap()
            .status(),
            403
        );

        // Categories: a path, and a Spanish name the portal then shows.
        let r = post(
            &b,
            app,
            "/admin/categories",
            &[("csrf", &token), ("path", "Telecom > Cable > Outage")],
        )
        .await;
        assert_eq!(r.status(), 303);
        let categories: Vec<Value> = app
            .get(Role::Admin, "/api/v1/categories")
            .await
            .json()
            .await
            .unwrap();
        let telecom = categories.iter().find(|c| c["path"] == "Telecom").unwrap();
        let tid = telecom["id"].as_i64().unwrap();
        let r = post(
            &b,
            app,
            &format!("/admin/categories/{tid}"),
            &[
                ("csrf", &token),
                ("name_es", "Telecomunicaciones (teléfono, cable e internet)"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        let (_, html) = page(&browser(), app, "/portal/complaint?lang=es").await;
        assert!(
            html.contains(">Telecomunicaciones (teléfono, cable e internet)</option>"),
            "{html}"
        );
        assert!(
            !html.contains(">Telecom > Cable"),
            "the public sees the top of the tree"
        );
        let (_, html) = page(&browser(), app, "/portal/complaint?lang=en").await;
        assert!(html.contains(">Telecom</option>"));
        let audit = app
            .sql_texts("SELECT action FROM audit_log WHERE chain = 'reference' ORDER BY id")
            .await;
        assert!(
            audit.contains(&"company.update".to_string())
                && audit.contains(&"category.update".to_string())
        );
    }
);
