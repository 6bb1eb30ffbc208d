//! The OpenAPI description: served without credentials, well formed, covering every JSON route
//! (no route registered outside it), with the authentication errors it promises really
//! answered, and with answers shaped as it says.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Person, TestApp};
use hearth::domain::Role;
use serde_json::{Value, json};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn description(app: &TestApp) -> Value {
    let res = reqwest::get(app.url("/api/v1/openapi.json")).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    res.json().await.unwrap()
}

/// Every operation: (method, path template, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((method.to_owned(), path.clone(), op.clone()));
            }
        }
    }
    out
}

fn is_public(op: &Value) -> bool {
    op["security"].as_array().is_some_and(|reqs| {
        reqs.iter()
            .all(|r| r.as_object().is_some_and(|o| o.is_empty()))
    })
}

/// Every `$ref` in `value`.
fn refs(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.insert(r.clone());
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_description_is_served_to_anyone_and_is_well_formed() {
    let app = TestApp::spawn().await;
    let doc = description(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["cookie"]["in"], "cookie");
    assert_eq!(schemes["cookie"]["name"], "hearth_session");

    let ops = operations(&doc);
    assert!(ops.len() >= 24, "{} operations", ops.len());
    let mut ids = BTreeSet::new();
    for (method, path, op) in &ops {
        let what = format!("{method} {path}");
        assert!(path.starts_with("/api/v1/"), "{what}");
        let id = op["operationId"].as_str().unwrap_or_default();
        assert!(
            !id.is_empty() && ids.insert(id.to_owned()),
            "{what}: operationId {id:?}"
        );
        assert!(
            op["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{what}: summary"
        );
        assert!(
            op["tags"].as_array().is_some_and(|t| !t.is_empty()),
            "{what}: tag"
        );
        let responses = op["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|s| s.starts_with('2')),
            "{what}: a success"
        );
        // What authentication brings is documented on every operation that needs it.
        if !is_public(op) {
            assert!(responses.contains_key("401"), "{what}: 401");
            assert!(responses.contains_key("400"), "{what}: 400");
            if method != "get" {
                assert!(responses.contains_key("403"), "{what}: 403");
            }
        }
        // Every error is the one error shape.
        for (status, res) in responses {
            if status.starts_with('4') {
                assert_eq!(
                    res["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{what} {status}"
                );
            }
        }
        // Every path parameter is declared.
        let declared: BTreeSet<&str> = op["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter(|p| p["in"] == "path")
                    .map(|p| p["name"].as_str().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        let in_path: BTreeSet<&str> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        assert_eq!(declared, in_path, "{what}: path parameters");
    }
    // Sign-in is the one way in without credentials.
    assert!(is_public(&doc["paths"]["/api/v1/session"]["post"]));
    // What authentication brings is not added to it: its 401 and 400 are its own.
    let sign_in = &doc["paths"]["/api/v1/session"]["post"]["responses"];
    assert_eq!(sign_in["401"]["description"], "Wrong username or password.");
    let bad = sign_in["400"]["description"].as_str().unwrap();
    assert!(!bad.contains("token_with_cookie"), "{bad}");
    // An authenticated operation's own 400 is kept, with the shared reason added.
    let send = &doc["paths"]["/api/v1/conversations/{id}/messages"]["post"]["responses"];
    let bad = send["400"]["description"].as_str().unwrap();
    assert!(
        bad.starts_with("An empty or too long body") && bad.contains("token_with_cookie"),
        "{bad}"
    );
    // So is its own 403, with the read-only token's added; a write without one gets that alone.
    let refused = send["403"]["description"].as_str().unwrap();
    assert!(
        refused.starts_with("The conversation is archived.")
            && refused.contains("insufficient_scope"),
        "{refused}"
    );
    let me = &doc["paths"]["/api/v1/me"]["patch"]["responses"]["403"]["description"];
    assert!(
        me.as_str()
            .unwrap()
            .starts_with("Not allowed: a read-only token"),
        "{me}"
    );
    assert!(!is_public(&doc["paths"]["/api/v1/me"]["get"]));

    // Every reference names a schema that exists; ids are plain integers.
    let mut all = BTreeSet::new();
    refs(&doc, &mut all);
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for r in &all {
        let name = r.strip_prefix("#/components/schemas/").expect(r);
        assert!(schemas.contains_key(name), "{r} is not defined");
    }
    assert!(!schemas.contains_key("i64"));
    assert_eq!(
        schemas["MessageView"]["properties"]["id"],
        json!({"type": "integer", "format": "int64"})
    );
}

/// A request for `op` with its path parameters filled with 1 and, for writes, an empty JSON
/// object as the body.
fn request(app: &TestApp, method: &str, path: &str) -> reqwest::RequestBuilder {
    let concrete: String = path
        .split('/')
        .map(|seg| if seg.starts_with('{') { "1" } else { seg })
        .collect::<Vec<_>>()
        .join("/");
    let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    let req = app.client().request(method.clone(), app.url(&concrete));
    if method == reqwest::Method::GET || method == reqwest::Method::DELETE {
        req
    } else {
        req.json(&json!({}))
    }
}

async fn token(person: &Person, scope: &str) -> String {
    let res = person
        .post("/api/v1/me/tokens", json!({"name": scope, "scope": scope}))
        .await;
    assert_eq!(res.status(), 201);
    let made: Value = res.json().await.unwrap();
    made["token"].as_str().unwrap().to_owned()
}

async fn code(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    (
        status,
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[tokio::test]
async fn every_operation_answers_the_authentication_errors_it_documents() {
    let app = TestApp::spawn().await;
    let admin = app.person_with_role("root", Role::Admin).await;
    let read = token(&admin, "read").await;
    let doc = description(&app).await;
    let wrong = format!("hearth_{}", "0".repeat(64));
    for (method, path, op) in operations(&doc) {
        let what = format!("{method} {path}");
        if is_public(&op) {
            continue;
        }
        // No credentials at all.
        let (status, _) = code(request(&app, &method, &path).send().await.unwrap()).await;
        assert_eq!(status, 401, "{what} without credentials");
        // A token that is not one.
        let res = request(&app, &method, &path)
            .header("authorization", format!("Bearer {wrong}"))
            .send()
            .await
            .unwrap();
        assert_eq!(code(res).await, (401, "token_invalid".to_owned()), "{what}");
        // A token with a cookie.
        let res = request(&app, &method, &path)
            .header("authorization", format!("Bearer {read}"))
            .header("cookie", &admin.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(
            code(res).await,
            (400, "token_with_cookie".to_owned()),
            "{what} with both"
        );
        // A read token may read, never write, whoever it belongs to.
        if method != "get" {
            let res = request(&app, &method, &path)
                .header("authorization", format!("Bearer {read}"))
                .send()
                .await
                .unwrap();
            assert_eq!(
                code(res).await,
                (403, "insufficient_scope".to_owned()),
                "{what} with a read token"
            );
        }
    }
}

/// Checks `value` against `schema` for what a client relies on: types, required properties,
/// no undeclared properties, enums, and the items of arrays. Returns the first mismatch.
fn conforms(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.trim_start_matches("#/components/schemas/");
        return conforms(doc, &doc["components"]["schemas"][name], value, at);
    }
    if let Some(options) = schema["oneOf"].as_array() {
        return if options.iter().any(|o| conforms(doc, o, value, at).is_ok()) {
            Ok(())
        } else {
            Err(format!("{at}: {value} matches none of {schema}"))
        };
    }
    if let Some(parts) = schema["allOf"].as_array() {
        // Each part sees only the properties it declares; together they must cover all.
        let mut declared = BTreeSet::new();
        for part in parts {
            conforms(doc, part, &project(doc, part, value), at)?;
            declared.extend(properties(doc, part).into_keys());
        }
        if let Some(obj) = value.as_object() {
            if let Some(extra) = obj.keys().find(|k| !declared.contains(*k)) {
                return Err(format!("{at}: undeclared property {extra:?}"));
            }
        }
        return Ok(());
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let fits = types.is_empty()
        || types.contains(&kind)
        || (kind == "integer" && types.contains(&"number"));
    if !fits {
        return Err(format!("{at}: {value} is not {types:?}"));
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            return Err(format!("{at}: {value} is not one of {allowed:?}"));
        }
    }
    match value {
        Value::Object(obj) => {
            for req in schema["required"].as_array().into_iter().flatten() {
                let key = req.as_str().unwrap();
                if !obj.contains_key(key) {
                    return Err(format!("{at}: missing required {key:?}"));
                }
            }
            let props = schema["properties"].as_object();
            for (key, v) in obj {
                match props.and_then(|p| p.get(key)) {
                    Some(s) => conforms(doc, s, v, &format!("{at}.{key}"))?,
                    None if schema["additionalProperties"].is_object() => conforms(
                        doc,
                        &schema["additionalProperties"],
                        v,
                        &format!("{at}.{key}"),
                    )?,
                    None => return Err(format!("{at}: undeclared property {key:?}")),
                }
            }
            Ok(())
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                conforms(doc, &schema["items"], item, &format!("{at}[{i}]"))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The properties a schema declares, following references and `allOf`.
fn properties(doc: &Value, schema: &Value) -> BTreeMap<String, Value> {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.trim_start_matches("#/components/schemas/");
        return properties(doc, &doc["components"]["schemas"][name]);
    }
    let mut out: BTreeMap<String, Value> = schema["properties"]
        .as_object()
        .map(|p| p.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        out.extend(properties(doc, part));
    }
    out
}

/// `value` with only the properties `schema` declares.
fn project(doc: &Value, schema: &Value, value: &Value) -> Value {
    let declared = properties(doc, schema);
    match value.as_object() {
        Some(obj) => Value::Object(
            obj.iter()
                .filter(|(k, _)| declared.contains_key(*k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        None => value.clone(),
    }
}

/// The schema `doc` gives the JSON answer of `method path` with `status`.
fn answer_schema(doc: &Value, method: &str, path: &str, status: u16) -> Value {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is not documented");
    let res = &op["responses"][status.to_string()];
    assert!(
        res.is_object(),
        "{method} {path} does not document {status}"
    );
    res["content"]["application/json"]["schema"].clone()
}

async fn check(doc: &Value, method: &str, path: &str, res: reqwest::Response) -> Value {
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    let schema = answer_schema(doc, method, path, status);
    if let Err(why) = conforms(doc, &schema, &body, "$") {
        panic!("{method} {path} answered {status} not as documented: {why}\n{body:#}");
    }
    body
}

/// A person's raw PUT of `bytes` (a picture).
async fn put_bytes(person: &Person, path: &str, bytes: Vec<u8>) -> reqwest::Response {
    person
        .http
        .put(person.url(path))
        .header("cookie", &person.cookie)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn account_files_pictures_and_support_answer_as_documented() {
    let app = TestApp::spawn().await;
    let doc = description(&app).await;
    let ada = app.person_with_role("ada", Role::Admin).await;
    let bob = app.person("bob").await;
    let general = ada.general().await;
    let said = ada.say(general, "hello there").await;
    let id = said["id"].as_i64().unwrap();
    let png = || common::images::png(40, 30, 9);

    for (who, path, template) in [
        (
            &ada,
            "/api/v1/me/sessions".to_owned(),
            "/api/v1/me/sessions",
        ),
        (&ada, "/api/v1/me/email".to_owned(), "/api/v1/me/email"),
        (&ada, "/api/v1/me/quiet".to_owned(), "/api/v1/me/quiet"),
        (&ada, "/api/v1/me/devices".to_owned(), "/api/v1/me/devices"),
        (&ada, "/api/v1/push/key".to_owned(), "/api/v1/push/key"),
        (
            &ada,
            format!("/api/v1/conversations/{general}/notify"),
            "/api/v1/conversations/{id}/notify",
        ),
        (&ada, "/api/v1/search?q=hello".to_owned(), "/api/v1/search"),
        (&ada, "/api/v1/search?q=".to_owned(), "/api/v1/search"),
        (&ada, "/api/v1/inbox".to_owned(), "/api/v1/inbox"),
        (&bob, "/api/v1/inbox".to_owned(), "/api/v1/inbox"),
    ] {
        check(&doc, "get", template, who.get(&path).await).await;
    }
    let until = json!({"until": hearth::domain::now_ms() + 60_000});
    check(
        &doc,
        "put",
        "/api/v1/me/quiet",
        ada.put_json("/api/v1/me/quiet", until).await,
    )
    .await;
    let res = ada
        .put_json("/api/v1/me/email", json!({"notify": true}))
        .await;
    check(&doc, "put", "/api/v1/me/email", res).await;

    // Files: an upload, the conversation's list, a card taken away.
    let res = ada.upload("p.png", png()).await;
    let upload = check(&doc, "post", "/api/v1/uploads", res).await;
    let files = json!({"body": "a picture", "attachments": [upload["id"]]});
    let res = ada
        .post(&format!("/api/v1/conversations/{general}/messages"), files)
        .await;
    assert_eq!(res.status(), 201);
    let res = ada
        .get(&format!("/api/v1/conversations/{general}/files"))
        .await;
    let listed = check(&doc, "get", "/api/v1/conversations/{id}/files", res).await;
    assert_eq!(listed["files"][0]["sender"], "ada");
    let res = ada.delete(&format!("/api/v1/messages/{id}/preview")).await;
    check(&doc, "delete", "/api/v1/messages/{id}/preview", res).await;

    // Pictures.
    let res = put_bytes(&ada, "/api/v1/me/avatar", png()).await;
    check(&doc, "put", "/api/v1/me/avatar", res).await;
    let path = format!("/api/v1/conversations/{general}/picture");
    let res = put_bytes(&ada, &path, png()).await;
    check(&doc, "put", "/api/v1/conversations/{id}/picture", res).await;
    let res = put_bytes(&ada, "/api/v1/admin/logo", png()).await;
    check(&doc, "put", "/api/v1/admin/logo", res).await;
    let res = ada.delete("/api/v1/admin/logo").await;
    check(&doc, "delete", "/api/v1/admin/logo", res).await;

    // Support: the member's conversation, the admins' inbox, thread and notes, a report.
    let res = bob.post("/api/v1/support", json!({})).await;
    let support = check(&doc, "post", "/api/v1/support", res).await;
    let sid = support["id"].as_i64().unwrap();
    let res = bob
        .post(
            &format!("/api/v1/messages/{id}/report"),
            json!({"reason": "rude"}),
        )
        .await;
    check(&doc, "post", "/api/v1/messages/{id}/report", res).await;
    let res = ada
        .post(
            &format!("/api/v1/conversations/{sid}/notes"),
            json!({"body": "on it"}),
        )
        .await;
    check(&doc, "post", "/api/v1/conversations/{id}/notes", res).await;
    let res = ada
        .post(
            &format!("/api/v1/conversations/{sid}/support"),
            json!({"state": "resolved"}),
        )
        .await;
    check(&doc, "post", "/api/v1/conversations/{id}/support", res).await;
    for path in ["notes", "support"] {
        let res = ada
            .get(&format!("/api/v1/conversations/{sid}/{path}"))
            .await;
        check(
            &doc,
            "get",
            &format!("/api/v1/conversations/{{id}}/{path}"),
            res,
        )
        .await;
    }
    let inbox = check(&doc, "get", "/api/v1/inbox", ada.get("/api/v1/inbox").await).await;
    assert_eq!(inbox["threads"][0]["conversation_id"], sid);
}

#[tokio::test]
async fn answers_are_shaped_as_the_description_says() {
    let app = TestApp::spawn().await;
    let doc = description(&app).await;
    let ada = app.person_with_role("ada", Role::Admin).await;
    let bob = app.person("bob").await;
    let general = ada.general().await;

    let said = ada.say(general, "hello **there** @bob").await;
    let id = said["id"].as_i64().unwrap();
    let res = ada
        .put(&format!("/api/v1/messages/{id}/reactions/👍"))
        .await;
    check(&doc, "put", "/api/v1/messages/{id}/reactions/{emoji}", res).await;
    let reply = json!({"body": "a reply", "reply_to": id, "client_id": "c-1"});
    let res = bob
        .post(&format!("/api/v1/conversations/{general}/messages"), reply)
        .await;
    check(&doc, "post", "/api/v1/conversations/{id}/messages", res).await;
    let res = ada
        .patch(&format!("/api/v1/messages/{id}"), json!({"body": "edited"}))
        .await;
    check(&doc, "patch", "/api/v1/messages/{id}", res).await;

    let res = ada
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "name": "crew", "members": [bob_id(&app).await]}),
        )
        .await;
    let group = check(&doc, "post", "/api/v1/conversations", res).await;
    let group_id = group["id"].as_i64().unwrap();
    let res = ada
        .patch(
            &format!("/api/v1/conversations/{group_id}"),
            json!({"topic": "plans"}),
        )
        .await;
    check(&doc, "patch", "/api/v1/conversations/{id}", res).await;
    let res = ada
        .post("/api/v1/directs", json!({"user_id": bob_id(&app).await}))
        .await;
    check(&doc, "post", "/api/v1/directs", res).await;

    for (path, template) in [
        ("/api/v1/me".to_owned(), "/api/v1/me"),
        ("/api/v1/users".to_owned(), "/api/v1/users"),
        ("/api/v1/channels".to_owned(), "/api/v1/channels"),
        ("/api/v1/conversations".to_owned(), "/api/v1/conversations"),
        ("/api/v1/unread".to_owned(), "/api/v1/unread"),
        (
            format!("/api/v1/conversations/{general}"),
            "/api/v1/conversations/{id}",
        ),
        (
            format!("/api/v1/conversations/{general}/messages"),
            "/api/v1/conversations/{id}/messages",
        ),
        (
            format!("/api/v1/conversations/{general}/messages?around={id}"),
            "/api/v1/conversations/{id}/messages",
        ),
    ] {
        for person in [&ada, &bob] {
            let res = person.get(&path).await;
            check(&doc, "get", template, res).await;
        }
    }

    // The check itself notices a wrong answer.
    let user = json!({"$ref": "#/components/schemas/UserView"});
    let good = json!({"id": 1, "username": "a", "display_name": "A", "role": "member", "avatar_url": null});
    assert!(conforms(&doc, &user, &good, "$").is_ok());
    for bad in [
        json!({"id": "1", "username": "a", "display_name": "A", "role": "member"}),
        json!({"username": "a", "display_name": "A", "role": "member"}),
        json!({"id": 1, "username": "a", "display_name": "A", "role": "owner"}),
        json!({"id": 1, "username": "a", "display_name": "A", "role": "member", "extra": 1}),
    ] {
        assert!(conforms(&doc, &user, &bad, "$").is_err(), "{bad}");
    }

    // Errors too.
    let res = ada.get("/api/v1/conversations/999999").await;
    check(&doc, "get", "/api/v1/conversations/{id}", res).await;
    let res = ada
        .get(&format!("/api/v1/conversations/{general}/messages?limit=0"))
        .await;
    check(&doc, "get", "/api/v1/conversations/{id}/messages", res).await;
    let res = ada
        .post(
            "/api/v1/conversations",
            json!({"kind": "nope", "name": "x"}),
        )
        .await;
    check(&doc, "post", "/api/v1/conversations", res).await;
}

async fn bob_id(app: &TestApp) -> i64 {
    app.sql()
        .query_row("SELECT id FROM users WHERE username = 'bob'", [], |r| {
            r.get(0)
        })
        .unwrap()
}
