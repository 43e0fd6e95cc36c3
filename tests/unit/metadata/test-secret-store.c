/* SPDX-License-Identifier: Apache-2.0 */
/* The secret stores' pieces without a peer: Signature Version 4 against AWS's documented example and a
 * vector made with botocore's own signer, header canonicalization, CRC32C. The clients end to end are
 * tests/integration/test_secret_stores.py, against emulators that check every signature with botocore. */
#include <errno.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "metadata/secret-store.h"
#include "tests/unit/unit.h"

/* docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html's example: IAM ListUsers. */
static void test_sigv4_aws_documented_example(void **state) {
        const struct md_sigv4_key k = {.access_key_id = "AKIDEXAMPLE",
                                       .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                       .region = "us-east-1",
                                       .service = "iam",
                                       .amz_date = "20150830T123600Z"};
        const char *const headers[] = {"Content-Type: application/x-www-form-urlencoded; charset=utf-8",
                                       "Host: iam.amazonaws.com", "X-Amz-Date: 20150830T123600Z", NULL};
        _cleanup_free_ char *auth = NULL;
        (void) state;

        assert_int_equal(md_sigv4_authorization(&k, "GET", "/", "Action=ListUsers&Version=2010-05-08",
                                                headers, "", 0, &auth),
                         0);
        assert_string_equal(
                auth,
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

/* GetSecretValue with a session token, as botocore 1.29's SigV4Auth signs it (canonical_request,
 * string_to_sign, signature with context['timestamp'] fixed): the headers in another order and case, and
 * padded, sign the same. */
static void test_sigv4_session_token_matches_botocore(void **state) {
        const struct md_sigv4_key k = {.access_key_id = "ASIAEXAMPLEKEY123456",
                                       .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                       .region = "eu-west-1",
                                       .service = "secretsmanager",
                                       .amz_date = "20240305T101112Z"};
        const char *body = "{\"SecretId\":\"prod/k8s/certificate-key\",\"VersionStage\":\"AWSCURRENT\"}";
        const char *const headers[] = {"X-Amz-Target: secretsmanager.GetSecretValue",
                                       "x-amz-security-token:   IQoJb3JpZ2luX2VjEXAMPLETOKEN==  ",
                                       "Content-Type: application/x-amz-json-1.1",
                                       "X-Amz-Date: 20240305T101112Z",
                                       "HOST: secretsmanager.eu-west-1.amazonaws.com",
                                       NULL};
        _cleanup_free_ char *auth = NULL, *other = NULL;
        (void) state;

        assert_int_equal(md_sigv4_authorization(&k, "POST", "/", "", headers, body, strlen(body), &auth), 0);
        assert_string_equal(
                auth,
                "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLEKEY123456/20240305/eu-west-1/secretsmanager/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=304fe8bd7d8a109e71b37cd55cb8374aaf186ac848c7dea88f9f214be5d78f06");

        /* Anything signed changes the signature: the body, the region. */
        assert_int_equal(
                md_sigv4_authorization(&k, "POST", "/", "", headers, body, strlen(body) - 1, &other), 0);
        assert_string_not_equal(auth, other);
        free(other);
        other = NULL;
        struct md_sigv4_key k2 = k;
        k2.region = "eu-west-2";
        assert_int_equal(md_sigv4_authorization(&k2, "POST", "/", "", headers, body, strlen(body), &other),
                         0);
        assert_string_not_equal(auth, other);
}

static void test_sigv4_refuses_bad_input(void **state) {
        struct md_sigv4_key k = {.access_key_id = "A",
                                 .secret_access_key = "S",
                                 .region = "us-east-1",
                                 .service = "ssm",
                                 .amz_date = "2024-03-05"};
        const char *const bad_header[] = {"no colon here", NULL};
        char *auth = NULL;
        (void) state;

        assert_int_equal(md_sigv4_authorization(&k, "POST", "/", "", NULL, "", 0, &auth), -EINVAL);
        k.amz_date = "20240305T101112Z";
        assert_int_equal(md_sigv4_authorization(&k, "POST", "/", "", bad_header, "", 0, &auth), -EINVAL);
        k.secret_access_key = "";
        assert_int_equal(md_sigv4_authorization(&k, "POST", "/", "", NULL, "", 0, &auth), -EINVAL);
        assert_null(auth);
}

static void test_crc32c(void **state) {
        (void) state;
        /* RFC 3720's check value for "123456789", and the empty input. */
        assert_int_equal(md_crc32c(0, "123456789", 9), 0xE3069283u);
        assert_int_equal(md_crc32c(0, "", 0), 0);
        /* Incremental equals whole. */
        assert_int_equal(md_crc32c(md_crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
}

static void test_store_names(void **state) {
        (void) state;
        assert_string_equal(md_secret_store_name(MD_SECRET_AWS_SECRETS_MANAGER), "awsSecretsManager");
        assert_string_equal(md_secret_store_name(MD_SECRET_AWS_SSM_PARAMETER), "awsSsmParameter");
        assert_string_equal(md_secret_store_name(MD_SECRET_GCP_SECRET_MANAGER), "gcpSecretManager");
        assert_string_equal(md_secret_store_name(MD_SECRET_AZURE_KEY_VAULT), "azureKeyVault");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sigv4_aws_documented_example),
                cmocka_unit_test(test_sigv4_session_token_matches_botocore),
                cmocka_unit_test(test_sigv4_refuses_bad_input),
                cmocka_unit_test(test_crc32c),
                cmocka_unit_test(test_store_names),
        };
        return cmocka_run_group_tests_name("secret-store", tests, NULL, NULL);
}
