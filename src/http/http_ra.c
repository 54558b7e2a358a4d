/* The registration authority API (docs/API.md "Registration"): officers
 * register citizens and organizations and prepare certificate requests, a
 * registration administrator decides them (R1.5), revocation officers
 * revoke; citizens read their own record, get their signing certificate
 * and revoke with password + OTP; telematic registration with a signed
 * request needs no session (R2.2).  The rules are ra/'s: handlers map the
 * request (its caller in req->who, its body in req->json, both checked by
 * http_access.c as the table at the end declares) to calls and results to
 * JSON. */
#include "http/http_internal.h"
#include "ra/ra.h"

#include <openssl/pem.h>
#include <string.h>

#define ROLES_RA_READ (LV_ROLE_RA_OFFICER | LV_ROLE_RA_ADMIN | LV_ROLE_AUDITOR)
#define ECERT_BODY_MAX ((size_t)256 * 1024)

/* ---- request bodies -------------------------------------------------------
 * The shapes of docs/API.md "Registration authority", read by http_body.c.
 * Values are ra/'s to judge (check letters, dates, lengths, which fields a
 * profile uses); ra/ also checks members itself, since the console feeds it
 * JSON files too.  Optional strings may be null, as ra/ reads null as
 * absent. */
#define OPT_STR (HTTP_STR | HTTP_NULL)

static const http_body_field COMPANION[] = {HTTP_FIELD_REQ("type", HTTP_STR),
                                            HTTP_FIELD_REQ("number", HTTP_STR),
                                            HTTP_FIELD_REQ("country", HTTP_STR),
                                            HTTP_FIELD_REQ("expiry", HTTP_STR),
                                            {0}};

static const http_body_field DOCUMENT[] = {
    HTTP_FIELD_REQ("type", HTTP_STR),
    HTTP_FIELD_REQ("number", HTTP_STR),
    HTTP_FIELD("country", OPT_STR),
    HTTP_FIELD("expiry", OPT_STR),
    HTTP_FIELD("support_number", OPT_STR),
    {"companion", .types = HTTP_OBJ, .members = COMPANION},
    {0}};

static const http_body_field REGISTRATION[] = {
    HTTP_FIELD("level", OPT_STR),
    HTTP_FIELD_REQ("given_name", HTTP_STR),
    HTTP_FIELD_REQ("surname", HTTP_STR),
    HTTP_FIELD("country", OPT_STR),
    HTTP_FIELD("birth_date", OPT_STR),
    HTTP_FIELD_REQ("mobile", HTTP_STR),
    HTTP_FIELD_REQ("email", HTTP_STR),
    {"document", .types = HTTP_OBJ, .flags = HTTP_REQUIRED,
     .members = DOCUMENT},
    HTTP_FIELD_REQ("evidence_ref", HTTP_STR),
    {0}};

static const http_body_field REPLACEMENT[] = {
    HTTP_FIELD_REQ("reason", HTTP_STR),
    HTTP_FIELD_REQ("evidence_ref", HTTP_STR),
    {"document", .types = HTTP_OBJ, .flags = HTTP_REQUIRED,
     .members = DOCUMENT},
    {0}};

static const http_body_field ISSUE[] = {HTTP_FIELD("profile", HTTP_STR), {0}};

static const http_body_field REVOKE_OTP[] = {HTTP_FIELD_REQ("serial", HTTP_STR),
                                             {0}};

static const http_body_field REVOKE_OFFICER[] = {
    HTTP_FIELD_REQ("serial", HTTP_STR),
    HTTP_FIELD_REQ("reason", HTTP_STR),
    HTTP_FIELD("comment", OPT_STR),
    HTTP_FIELD("contact", OPT_STR),
    {0}};

static const http_body_field REVOKE_CITIZEN[] = {
    HTTP_FIELD_REQ("serial", HTTP_STR),   HTTP_FIELD_REQ("reason", HTTP_STR),
    HTTP_FIELD("comment", OPT_STR),       HTTP_FIELD("contact", OPT_STR),
    HTTP_FIELD_REQ("password", HTTP_STR), HTTP_FIELD_REQ("otp_id", HTTP_STR),
    HTTP_FIELD_REQ("otp", HTTP_STR),      {0}};

static const http_body_field PSD2[] = {
    HTTP_FIELD_REQ("nca_name", HTTP_STR),
    HTTP_FIELD_REQ("nca_id", HTTP_STR),
    {"roles", .types = HTTP_ARR, .flags = HTTP_REQUIRED, .items = HTTP_STR},
    HTTP_FIELD_REQ("authorization_number", HTTP_STR),
    {0}};

static const http_body_field ORGANIZATION[] = {
    HTTP_FIELD_REQ("legal_name", HTTP_STR),
    HTTP_FIELD_REQ("nif", HTTP_STR),
    HTTP_FIELD("country", OPT_STR),
    HTTP_FIELD("kind", OPT_STR),
    HTTP_FIELD_REQ("locality", HTTP_STR),
    HTTP_FIELD("business_category", OPT_STR),
    HTTP_FIELD_REQ("contact_email", HTTP_STR),
    HTTP_FIELD("contact_mobile", OPT_STR),
    {"psd2", HTTP_OBJ, 0, 0, 0, PSD2},
    {0}};

static const http_body_field POWERS[] = {HTTP_FIELD_REQ("scope", HTTP_STR),
                                         HTTP_FIELD_REQ("from", HTTP_STR),
                                         HTTP_FIELD_REQ("until", HTTP_STR),
                                         HTTP_FIELD_REQ("document", HTTP_STR),
                                         {0}};

/* representatives and members alike; ra/ wants powers of the former only */
static const http_body_field PERSON[] = {
    HTTP_FIELD_REQ("given_name", HTTP_STR),
    HTTP_FIELD_REQ("surname", HTTP_STR),
    HTTP_FIELD_REQ("id_type", HTTP_STR),
    HTTP_FIELD_REQ("id_number", HTTP_STR),
    HTTP_FIELD("id_country", OPT_STR),
    HTTP_FIELD("document_expiry", OPT_STR),
    HTTP_FIELD_REQ("email", HTTP_STR),
    HTTP_FIELD("unit", OPT_STR),
    HTTP_FIELD("title", OPT_STR),
    {"powers", .types = HTTP_OBJ, .members = POWERS},
    {0}};

static const http_body_field REQUEST[] = {
    HTTP_FIELD_REQ("org_id", HTTP_STR),
    HTTP_FIELD_REQ("profile", HTTP_STR),
    HTTP_FIELD("person", OPT_STR),
    HTTP_FIELD("common_name", OPT_STR),
    HTTP_FIELD("unit", OPT_STR),
    {"dns_names", .types = HTTP_ARR, .items = HTTP_STR},
    HTTP_FIELD("csr", HTTP_STR),
    HTTP_FIELD("test", HTTP_BOOL | HTTP_NULL),
    {0}};

static const http_body_field REJECT[] = {HTTP_FIELD_REQ("reason", HTTP_STR),
                                         {0}};

/* ---- helpers ------------------------------------------------------------- */

static int respond(lv_http_resp *resp, int status, json_t *body)
{
    if (body == NULL)
        return http_resp_error(resp, LV_ENOMEM, "out of memory");
    return http_resp_json_new(resp, status, body, "no-store");
}

/* A call that produced body: its error when rc < 0, else body. */
static int answer(lv_http_resp *resp, int rc, const lv_err *err, int status,
                  json_t *body)
{
    if (rc < 0) {
        json_decref(body);
        return http_resp_err(resp, err);
    }
    return respond(resp, status, body);
}

/* Record ids are 32 hex characters; anything else names nothing and is not
 * echoed back. */
static int id_ok(const char *id)
{
    return strlen(id) == RA_ID_LEN &&
           strspn(id, "0123456789abcdef") == RA_ID_LEN;
}

static int bad_id(lv_http_resp *resp)
{
    return http_resp_error(resp, LV_ENOTFOUND, "no such record");
}

static json_t *cert_pem_json(X509 *cert)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    json_t *pem = NULL;
    if (bio != NULL && PEM_write_bio_X509(bio, cert)) {
        long len = BIO_get_mem_data(bio, &data);
        pem = json_stringn(data, (size_t)len);
    }
    BIO_free(bio);
    return pem ? pem : json_null();
}

static json_t *issued_json(const lv_issue_result *r)
{
    return json_pack("{s:s, s:o}", "serial", r->serial, "certificate",
                     cert_pem_json(r->cert));
}

static json_t *registered_json(const ra_registered *r)
{
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s}", "id", r->citizen_id, "person_id",
                  r->person_id, "user_id", r->user_id, "activation",
                  r->activation_sent ? "sent" : "not_sent");
    if (o != NULL && !r->activation_sent)
        json_object_set_new(o, "activation_error",
                            json_string(r->activation_error));
    return o;
}

/* ---- citizens (officers) ------------------------------------------------- */

/* POST /api/v1/ra/citizens: face-to-face registration (R2.2, R2.6). */
static int citizen_add(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    ra_registered r;
    lv_err err = {0};
    ra_origin origin = {req->who.actor, "face_to_face"};
    int rc = ra_citizen_register(lv_app_auth(app), req->st, req->json, &origin,
                                 &r, &err);
    if (rc < 0)
        return http_resp_err(resp, &err);
    return respond(resp, 201, registered_json(&r));
}

/* GET /api/v1/ra/citizens/{id} and /api/v1/citizens/{id} */
static int citizen_get(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    json_t *out = NULL;
    lv_err err = {0};
    (void)app;
    if (!id_ok(req->param))
        return bad_id(resp);
    int rc = ra_citizen_json(req->st, req->param, &out, &err);
    return answer(resp, rc, &err, 200, out);
}

/* POST /api/v1/ra/citizens/{id}/documents: duplicate or renewal (R2.5). */
static int citizen_document(lv_app *app, const lv_http_req *req,
                            lv_http_resp *resp)
{
    json_t *out = NULL;
    lv_err err = {0};
    (void)app;
    if (!id_ok(req->param))
        return bad_id(resp);
    ra_origin origin = {req->who.actor, "face_to_face"};
    int rc = ra_citizen_replace_document(req->st, req->param, req->json,
                                         &origin, &err);
    if (rc == 0)
        rc = ra_citizen_json(req->st, req->param, &out, &err);
    return answer(resp, rc, &err, 200, out);
}

/* POST /api/v1/ra/citizens/{id}/activation: a new activation code (R3.1). */
static int citizen_activation(lv_app *app, const lv_http_req *req,
                              lv_http_resp *resp)
{
    lv_err err = {0};
    if (!id_ok(req->param))
        return bad_id(resp);
    if (ra_citizen_activation_resend(lv_app_auth(app), req->st, req->param,
                                     req->who.actor, &err) < 0)
        return http_resp_err(resp, &err);
    return respond(resp, 200, json_pack("{s:s}", "activation", "sent"));
}

/* ---- the citizen's own
 * -------------------------------------------------------- */

/* POST /api/v1/citizens/{id}/certificates: R5.3, at the citizen's will. */
static int citizen_issue(lv_app *app, const lv_http_req *req,
                         lv_http_resp *resp)
{
    lv_issue_result r;
    lv_err err = {0};
    const char *profile = lv_json_str(req->json, "profile");
    int rc =
        lv_app_ca(app) ? 0 : lv_fail(&err, LV_ESEALED, "the CA is not loaded");
    if (rc == 0)
        rc = ra_citizen_issue(lv_app_ca(app), req->st, req->who.id, profile,
                              req->who.actor, &r, &err);
    if (rc < 0)
        return http_resp_err(resp, &err);
    rc = respond(resp, 201, issued_json(&r));
    ca_issue_result_free(&r);
    return rc;
}

/* POST /api/v1/citizens/{id}/revocations/otp: {serial} -> {otp_id}. */
static int citizen_revoke_otp(lv_app *app, const lv_http_req *req,
                              lv_http_resp *resp)
{
    char otp_id[LV_AUTH_OTP_ID_LEN + 1];
    lv_err err = {0};
    int rc =
        ra_revoke_otp_send(lv_app_auth(app), req->st, req->who.id,
                           lv_json_str(req->json, "serial"), req->remote_addr,
                           http_lang(req, NULL), otp_id, &err);
    if (rc < 0)
        return http_resp_err(resp, &err);
    return respond(resp, 201, json_pack("{s:s}", "otp_id", otp_id));
}

static ra_revocation revocation_from(const json_t *in)
{
    return (ra_revocation){lv_json_str(in, "serial"), lv_json_str(in, "reason"),
                           lv_json_str(in, "comment"),
                           lv_json_str(in, "contact")};
}

/* POST /api/v1/citizens/{id}/revocations: password + OTP (R6.1, R3.4). */
static int citizen_revoke(lv_app *app, const lv_http_req *req,
                          lv_http_resp *resp)
{
    const json_t *in = req->json;
    lv_err err = {0};
    ra_revocation r = revocation_from(in);
    int rc =
        lv_app_ca(app) ? 0 : lv_fail(&err, LV_ESEALED, "the CA is not loaded");
    if (rc == 0)
        rc = ra_revoke_by_citizen(
            lv_app_auth(app), lv_app_ca(app), req->st, req->who.id, &r,
            lv_json_str(in, "password"), lv_json_str(in, "otp_id"),
            lv_json_str(in, "otp"), req->remote_addr, &err);
    if (rc < 0)
        return http_resp_err(resp, &err);
    return respond(
        resp, 200,
        json_pack("{s:s, s:s}", "serial", r.serial, "status", "revoked"));
}

/* ---- organizations and requests
 * ------------------------------------------------ */

typedef int (*ra_create_fn)(lv_store *st, const json_t *in, const char *actor,
                            char id_out[RA_ID_LEN + 1], lv_err *err);
typedef int (*ra_show_fn)(lv_store *st, const char *id, json_t **out,
                          lv_err *err);

/* An officer's JSON body creates a record, answered 201 with the record as
 * it now reads (organizations, requests). */
static int create_then_show(const lv_http_req *req, lv_http_resp *resp,
                            ra_create_fn create, ra_show_fn show)
{
    json_t *out = NULL;
    char id[RA_ID_LEN + 1];
    lv_err err = {0};
    int rc = create(req->st, req->json, req->who.actor, id, &err);
    if (rc == 0)
        rc = show(req->st, id, &out, &err);
    return answer(resp, rc, &err, 201, out);
}

/* GET of one record by the {id} of the path, for RA readers. */
static int show_by_id(const lv_http_req *req, lv_http_resp *resp,
                      ra_show_fn show)
{
    json_t *out = NULL;
    lv_err err = {0};
    if (!id_ok(req->param))
        return bad_id(resp);
    int rc = show(req->st, req->param, &out, &err);
    return answer(resp, rc, &err, 200, out);
}

/* POST /api/v1/ra/organizations (R2.7) */
static int org_add(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    (void)app;
    return create_then_show(req, resp, ra_org_create, ra_org_json);
}

static int org_get(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    (void)app;
    return show_by_id(req, resp, ra_org_json);
}

static int org_person(const lv_http_req *req, lv_http_resp *resp,
                      const char *role)
{
    char id[RA_ID_LEN + 1];
    lv_err err = {0};
    if (!id_ok(req->param))
        return bad_id(resp);
    int rc = ra_org_add_person(req->st, req->param, role, req->json,
                               req->who.actor, id, &err);
    if (rc < 0)
        return http_resp_err(resp, &err);
    return respond(resp, 201, json_pack("{s:s, s:s}", "id", id, "role", role));
}

/* POST /api/v1/ra/organizations/{id}/representatives (CPS §3.2.2) */
static int org_representative(lv_app *app, const lv_http_req *req,
                              lv_http_resp *resp)
{
    (void)app;
    return org_person(req, resp, "representative");
}

/* POST /api/v1/ra/organizations/{id}/members (CPS §3.2.3.2) */
static int org_member(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    (void)app;
    return org_person(req, resp, "member");
}

/* POST /api/v1/ra/requests (R2.8) */
static int request_add(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    (void)app;
    return create_then_show(req, resp, ra_request_create, ra_request_json);
}

/* GET /api/v1/ra/requests[?status=pending] */
static int request_list(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    json_t *out = NULL;
    lv_err err = {0};
    (void)app;
    if (ra_request_list_json(req->st, http_req_query(req, "status"), &out,
                             &err) < 0)
        return http_resp_err(resp, &err);
    return respond(resp, 200, json_pack("{s:o}", "requests", out));
}

static int request_get(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    (void)app;
    return show_by_id(req, resp, ra_request_json);
}

/* POST /api/v1/ra/requests/{id}/approve: the second person (R1.5). */
static int request_approve(lv_app *app, const lv_http_req *req,
                           lv_http_resp *resp)
{
    lv_issue_result r;
    lv_err err = {0};
    if (!id_ok(req->param))
        return bad_id(resp);
    if (lv_app_ca(app) == NULL)
        return http_resp_error(resp, LV_ESEALED, "the CA is not loaded");
    if (ra_request_approve(lv_app_ca(app), req->st, req->param, req->who.actor,
                           &r, &err) < 0)
        return http_resp_err(resp, &err);
    json_t *out = issued_json(&r);
    if (out != NULL)
        json_object_set_new(out, "request", json_string(req->param));
    ca_issue_result_free(&r);
    return respond(resp, 200, out);
}

/* POST /api/v1/ra/requests/{id}/reject: {reason} (R2.8). */
static int request_reject(lv_app *app, const lv_http_req *req,
                          lv_http_resp *resp)
{
    json_t *out = NULL;
    lv_err err = {0};
    if (!id_ok(req->param))
        return bad_id(resp);
    int rc = ra_request_reject(req->st, lv_app_config(app), req->param,
                               req->who.actor, lv_json_str(req->json, "reason"),
                               &err);
    if (rc == 0)
        rc = ra_request_json(req->st, req->param, &out, &err);
    return answer(resp, rc, &err, 200, out);
}

/* ---- revocation by an officer and telematic registration
 * --------------------- */

/* POST /api/v1/ra/revocations: {serial, reason, comment, contact} (R6.1). */
static int officer_revoke(lv_app *app, const lv_http_req *req,
                          lv_http_resp *resp)
{
    lv_err err = {0};
    ra_revocation r = revocation_from(req->json);
    int rc =
        lv_app_ca(app) ? 0 : lv_fail(&err, LV_ESEALED, "the CA is not loaded");
    if (rc == 0)
        rc = ra_revoke_by_officer(lv_app_ca(app), req->st, &r, req->who.actor,
                                  &err);
    if (rc < 0)
        return http_resp_err(resp, &err);
    return respond(
        resp, 200,
        json_pack("{s:s, s:s}", "serial", r.serial, "status", "revoked"));
}

/* POST /api/v1/register/ecert: a CMS-signed request (R2.2); no session,
 * the signature is the authentication. */
static int register_ecert(lv_app *app, const lv_http_req *req,
                          lv_http_resp *resp)
{
    ra_registered r;
    lv_err err = {0};
    if (req->body == NULL || req->body_len == 0)
        return http_resp_error(resp, LV_EINVAL,
                               "the body must be a CMS-signed request");
    ra_ecert_proof proof = {.cms = req->body, .cms_len = req->body_len};
    if (ra_register_ecert(lv_app_auth(app), req->st, lv_app_config(app), &proof,
                          req->remote_addr, &r, &err) < 0)
        return http_resp_err(resp, &err);
    return respond(resp, 201, registered_json(&r));
}

/* POST /api/v1/register/ecert/tls over llaved's https, with the
 * recognised certificate as TLS client certificate and {mobile, email,
 * birth_date?, document_expiry?} (R2.2, issue 17 item 4). */
static int register_ecert_tls(lv_app *app, const lv_http_req *req,
                              lv_http_resp *resp)
{
    ra_registered r;
    lv_err err = {0};
    if (!req->https)
        return http_resp_error_status(
            resp, 403, LV_EPERM,
            "registration by client certificate needs https");
    ra_ecert_proof proof = {.peer_der = req->peer_der,
                            .peer_len = req->peer_len,
                            .npeer = req->npeer,
                            .content = req->json,
                            .body = req->body,
                            .body_len = req->body_len};
    if (ra_register_ecert(lv_app_auth(app), req->st, lv_app_config(app), &proof,
                          req->remote_addr, &r, &err) < 0)
        return http_resp_err(resp, &err);
    return respond(resp, 201, registered_json(&r));
}

/* What a CMS request would carry signed (R2.2). */
#define BODY_ECERT_TLS 4096
static const http_body_field ECERT_TLS[] = {
    HTTP_FIELD_REQ("mobile", HTTP_STR),
    HTTP_FIELD("email", HTTP_STR),
    HTTP_FIELD("birth_date", HTTP_STR),
    HTTP_FIELD("document_expiry", HTTP_STR),
    {0}};

#define RA_OFFICER HTTP_SESSION(LV_ROLE_RA_OFFICER)
#define RA_ADMIN HTTP_SESSION(LV_ROLE_RA_ADMIN)
#define RA_READ HTTP_SESSION(ROLES_RA_READ)
/* the citizen's own routes: a citizen names only their own {id} (R1.1) */
#define OWN_CITIZEN HTTP_OWN_ID(LV_ROLE_CITIZEN)

const lv_http_route http_ra_routes[] = {
    {"POST", "/api/v1/ra/citizens", citizen_add, 0, LV_WORK_API, RA_OFFICER,
     HTTP_JSON(REGISTRATION)},
    {"GET", "/api/v1/ra/citizens/{id}", citizen_get, 0, LV_WORK_API,
     HTTP_OWN_ID(ROLES_RA_READ | LV_ROLE_CITIZEN), HTTP_NO_BODY},
    {"POST", "/api/v1/ra/citizens/{id}/documents", citizen_document, 0,
     LV_WORK_API, RA_OFFICER, HTTP_JSON(REPLACEMENT)},
    {"POST", "/api/v1/ra/citizens/{id}/activation", citizen_activation, 0,
     LV_WORK_API, RA_OFFICER, HTTP_EMPTY},
    {"GET", "/api/v1/citizens/{id}", citizen_get, 0, LV_WORK_API,
     HTTP_OWN_ID(ROLES_RA_READ | LV_ROLE_CITIZEN), HTTP_NO_BODY},
    {"POST", "/api/v1/citizens/{id}/certificates", citizen_issue, 0,
     LV_WORK_KEYGEN, OWN_CITIZEN, HTTP_JSON(ISSUE)},
    {"POST", "/api/v1/citizens/{id}/revocations/otp", citizen_revoke_otp, 0,
     LV_WORK_API, OWN_CITIZEN, HTTP_JSON(REVOKE_OTP)},
    {"POST", "/api/v1/citizens/{id}/revocations", citizen_revoke, 0,
     LV_WORK_SIGN, OWN_CITIZEN, HTTP_JSON(REVOKE_CITIZEN)},
    {"POST", "/api/v1/ra/organizations", org_add, 0, LV_WORK_API, RA_OFFICER,
     HTTP_JSON(ORGANIZATION)},
    {"GET", "/api/v1/ra/organizations/{id}", org_get, 0, LV_WORK_API, RA_READ,
     HTTP_NO_BODY},
    {"POST", "/api/v1/ra/organizations/{id}/representatives",
     org_representative, 0, LV_WORK_API, RA_OFFICER, HTTP_JSON(PERSON)},
    {"POST", "/api/v1/ra/organizations/{id}/members", org_member, 0,
     LV_WORK_API, RA_OFFICER, HTTP_JSON(PERSON)},
    {"POST", "/api/v1/ra/requests", request_add, 0, LV_WORK_API, RA_OFFICER,
     HTTP_JSON(REQUEST)},
    {"GET", "/api/v1/ra/requests", request_list, 0, LV_WORK_API, RA_READ,
     HTTP_NO_BODY},
    {"GET", "/api/v1/ra/requests/{id}", request_get, 0, LV_WORK_API, RA_READ,
     HTTP_NO_BODY},
    {"POST", "/api/v1/ra/requests/{id}/approve", request_approve, 0,
     LV_WORK_KEYGEN, RA_ADMIN, HTTP_EMPTY},
    {"POST", "/api/v1/ra/requests/{id}/reject", request_reject, 0, LV_WORK_API,
     RA_ADMIN, HTTP_JSON(REJECT)},
    {"POST", "/api/v1/ra/revocations", officer_revoke, 0, LV_WORK_SIGN,
     HTTP_SESSION(LV_ROLE_REVOCATION_OFFICER), HTTP_JSON(REVOKE_OFFICER)},
    {"POST", "/api/v1/register/ecert", register_ecert, ECERT_BODY_MAX,
     LV_WORK_API, HTTP_PUBLIC, HTTP_RAW(NULL, NULL)},
    {"POST", "/api/v1/register/ecert/tls", register_ecert_tls, BODY_ECERT_TLS,
     LV_WORK_API, HTTP_PUBLIC, HTTP_JSON(ECERT_TLS)},
    {0},
};
