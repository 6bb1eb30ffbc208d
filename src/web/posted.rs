//! `Posted<T>`: a form posted by the signed-in user, its CSRF token already checked. Every
//! page form handler takes one, so none can forget the check; a form that sends a file
//! (`multipart/form-data`) is a `PostedFile`, checked the same way before the file is read.

use axum::extract::multipart::{Field, Multipart};
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::App;
use super::auth::PageSession;
use super::html::PageError;
use crate::chat::files::Upload;
use crate::chat::secrets;
use crate::error::Error;

/// A form that carries the session's CSRF token in its `csrf` field.
pub trait Csrf {
    fn csrf(&self) -> &str;
}

/// Implements [`Csrf`] for form structs with a `csrf: String` field.
macro_rules! csrf_field {
    ($($form:ty),* $(,)?) => {
        $(impl $crate::web::posted::Csrf for $form {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        })*
    };
}
pub(crate) use csrf_field;

/// Repeated fields (`members=1&members=2`) are read as pairs.
impl Csrf for Vec<(String, String)> {
    fn csrf(&self) -> &str {
        self.iter()
            .find(|(k, _)| k == "csrf")
            .map_or("", |(_, v)| v.as_str())
    }
}

/// A form that carries nothing but its CSRF token.
#[derive(Deserialize)]
pub struct Plain {
    #[serde(default)]
    csrf: String,
}

csrf_field!(Plain);

/// The signed-in session and its form. Not signed in: to the login page. A form that cannot
/// be read: 400 (413 when too large). A stale or forged token: 403. Nothing runs in any case.
pub struct Posted<T>(pub PageSession, pub T);

impl<S, T> FromRequest<S> for Posted<T>
where
    S: Send + Sync,
    App: FromRef<S>,
    T: DeserializeOwned + Csrf + Send,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let session = PageSession::from_request_parts(&mut parts, state).await?;
        let form = super::html::form::<T, S>(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        if !secrets::same_secret(form.csrf(), &session.0.csrf_token) {
            let err = Error::Forbidden("the form was stale or forged; reload and try again".into());
            return Err(PageError(err).into_response());
        }
        Ok(Posted(session, form))
    }
}

/// The longest CSRF field read from a file form (a token is 43 characters).
const CSRF_MAX: usize = 256;

/// The signed-in session and a file form whose first field, `csrf`, carried the session's
/// token (browsers send fields in the form's order). Its file is read by [`FileForm::upload`],
/// streamed as it arrives. Refused as `Posted` refuses, and nothing of the file is read.
pub struct PostedFile(pub PageSession, pub FileForm);

/// The rest of a file form, after its token.
pub struct FileForm(Multipart);

impl<S> FromRequest<S> for PostedFile
where
    S: Send + Sync,
    App: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let session = PageSession::from_request_parts(&mut parts, state).await?;
        let refuse = |err: Error| PageError(err).into_response();
        let mut form = Multipart::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|e| refuse(unreadable(&e.body_text())))?;
        let csrf = first_csrf(&mut form).await.map_err(refuse)?;
        if !secrets::same_secret(&csrf, &session.0.csrf_token) {
            let err = Error::Forbidden("the form was stale or forged; reload and try again".into());
            return Err(refuse(err));
        }
        Ok(PostedFile(session, FileForm(form)))
    }
}

/// The value of the form's first field, which must be `csrf`; an empty one otherwise (refused).
async fn first_csrf(form: &mut Multipart) -> Result<String, Error> {
    let unread = |e: axum::extract::multipart::MultipartError| unreadable(&e.body_text());
    let Some(mut field) = form.next_field().await.map_err(unread)? else {
        return Ok(String::new());
    };
    if field.name() != Some("csrf") {
        return Ok(String::new());
    }
    let mut token = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(unread)? {
        token.extend_from_slice(&chunk);
        if token.len() > CSRF_MAX {
            return Ok(String::new());
        }
    }
    Ok(String::from_utf8(token).unwrap_or_default())
}

impl FileForm {
    /// The file of the field named `field`, the next one in the form; a form without it is
    /// refused in words a person can act on.
    pub async fn upload(&mut self, field: &str) -> Result<Upload<Field<'_>>, Error> {
        let next = self
            .0
            .next_field()
            .await
            .map_err(|e| unreadable(&e.body_text()))?;
        match next {
            Some(file) if file.name() == Some(field) => Ok(Upload {
                name: file.file_name().unwrap_or_default().to_owned(),
                declared: None,
                body: file,
            }),
            _ => Err(Error::invalid("choose a file to upload")),
        }
    }
}

fn unreadable(why: &str) -> Error {
    Error::invalid(format!("the form could not be read: {why}"))
}
