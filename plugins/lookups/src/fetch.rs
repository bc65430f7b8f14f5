//! Fetches what the lookups need with the fewest calls: one DescribeStacks per distinct
//! (region, stack), SSM GetParameters in batches of 10, one GetSecretValue (or, from credstash,
//! one DynamoDB Query and one KMS Decrypt) per distinct secret, one ACM listing per region, all concurrently with a bounded number in flight. The results are
//! this run's cache, keyed by region too.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_config::SdkConfig;
use aws_sdk_acm::types::{CertificateStatus, Filters, KeyAlgorithm};
use aws_sdk_ssm::types::ParameterType;
use fink_aws::Explained;
use fink_plugin_api::Error;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};

use crate::credstash;

/// Requests in flight at once.
const IN_FLIGHT: usize = 8;
/// GetParameters accepts at most 10 names.
const SSM_BATCH: usize = 10;

type Key = (String, String);

/// What to fetch, deduplicated; keys are (region, name).
#[derive(Debug, Default)]
pub struct Plan {
    pub stacks: BTreeSet<Key>,
    pub parameters: BTreeMap<String, BTreeSet<String>>,
    pub secrets: BTreeSet<Key>,
    /// Where `secrets` are read from.
    pub secret_store: SecretStore,
    pub acm_regions: BTreeSet<String>,
}

/// Where `lookup:secret` reads (`plugins.lookups.secretStore`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SecretStore {
    /// AWS Secrets Manager (the default).
    #[default]
    SecretsManager,
    /// credstash's DynamoDB table (and KMS), as gcdt read secrets.
    Credstash { table: String },
}

impl Plan {
    fn regions(&self) -> BTreeSet<String> {
        let mut regions: BTreeSet<String> = self.acm_regions.clone();
        regions.extend(self.parameters.keys().cloned());
        regions.extend(self.stacks.iter().chain(&self.secrets).map(|(r, _)| r.clone()));
        regions
    }
}

/// An SSM parameter's value and whether it was a SecureString.
#[derive(Debug, Clone)]
pub struct Parameter {
    pub value: String,
    pub secure: bool,
}

/// An ISSUED certificate with all its names.
#[derive(Debug, Clone)]
pub struct Certificate {
    pub arn: String,
    pub names: Vec<String>,
    pub not_after: i64,
}

/// `Ok(None)`: does not exist. `Err`: the call failed (message and hint for the user).
pub type Fetch<T> = Result<Option<T>, Error>;

/// Everything fetched in this run.
#[derive(Debug, Default)]
pub struct Fetched {
    pub stacks: HashMap<Key, Fetch<Vec<(String, String)>>>,
    pub parameters: HashMap<Key, Fetch<Parameter>>,
    pub secrets: HashMap<Key, Fetch<String>>,
    /// Where the secrets were read from.
    pub secret_store: SecretStore,
    pub certificates: HashMap<String, Result<Vec<Certificate>, Error>>,
}

enum Outcome {
    Stack(Key, Fetch<Vec<(String, String)>>),
    Parameters(String, Vec<String>, Result<Vec<(String, Parameter)>, Error>),
    Secret(Key, Fetch<String>),
    Certificates(String, Result<Vec<Certificate>, Error>),
}

struct Clients {
    cloudformation: aws_sdk_cloudformation::Client,
    ssm: aws_sdk_ssm::Client,
    secrets: aws_sdk_secretsmanager::Client,
    dynamodb: aws_sdk_dynamodb::Client,
    kms: aws_sdk_kms::Client,
    acm: aws_sdk_acm::Client,
}

/// Runs the plan.
pub async fn fetch(base: &SdkConfig, plan: &Plan) -> Fetched {
    let clients: HashMap<String, Clients> = plan
        .regions()
        .into_iter()
        .map(|region| {
            let config = fink_aws::in_region(base, &region);
            let clients = Clients {
                cloudformation: aws_sdk_cloudformation::Client::new(&config),
                ssm: aws_sdk_ssm::Client::new(&config),
                secrets: aws_sdk_secretsmanager::Client::new(&config),
                dynamodb: aws_sdk_dynamodb::Client::new(&config),
                kms: aws_sdk_kms::Client::new(&config),
                acm: aws_sdk_acm::Client::new(&config),
            };
            (region, clients)
        })
        .collect();

    let mut tasks: Vec<BoxFuture<'_, Outcome>> = Vec::new();
    for key in &plan.stacks {
        let client = &clients[&key.0].cloudformation;
        tasks.push(async move { Outcome::Stack(key.clone(), stack_outputs(client, &key.1).await) }.boxed());
    }
    for (region, names) in &plan.parameters {
        let names: Vec<String> = names.iter().cloned().collect();
        for batch in names.chunks(SSM_BATCH) {
            let client = &clients[region].ssm;
            let batch = batch.to_vec();
            tasks.push(
                async move {
                    let result = parameters(client, &batch).await;
                    Outcome::Parameters(region.clone(), batch, result)
                }
                .boxed(),
            );
        }
    }
    for key in &plan.secrets {
        let clients = &clients[&key.0];
        let name = key.1.as_str();
        let task = match &plan.secret_store {
            SecretStore::SecretsManager => secret(&clients.secrets, name).boxed(),
            SecretStore::Credstash { table } => credstash::secret(&clients.dynamodb, &clients.kms, table, name).boxed(),
        };
        tasks.push(async move { Outcome::Secret(key.clone(), task.await) }.boxed());
    }
    for region in &plan.acm_regions {
        let client = &clients[region].acm;
        tasks.push(async move { Outcome::Certificates(region.clone(), certificates(client).await) }.boxed());
    }

    let mut fetched = Fetched { secret_store: plan.secret_store.clone(), ..Fetched::default() };
    let mut outcomes = futures::stream::iter(tasks).buffer_unordered(IN_FLIGHT);
    while let Some(outcome) = outcomes.next().await {
        match outcome {
            Outcome::Stack(key, result) => {
                fetched.stacks.insert(key, result);
            }
            Outcome::Parameters(region, names, result) => match result {
                Ok(found) => {
                    let mut found: HashMap<String, Parameter> = found.into_iter().collect();
                    for name in names {
                        let value = found.remove(&name);
                        fetched.parameters.insert((region.clone(), name), Ok(value));
                    }
                }
                Err(error) => {
                    for name in names {
                        fetched.parameters.insert((region.clone(), name), Err(error.clone()));
                    }
                }
            },
            Outcome::Secret(key, result) => {
                fetched.secrets.insert(key, result);
            }
            Outcome::Certificates(region, result) => {
                fetched.certificates.insert(region, result);
            }
        }
    }
    fetched
}

async fn stack_outputs(client: &aws_sdk_cloudformation::Client, stack: &str) -> Fetch<Vec<(String, String)>> {
    match client.describe_stacks().stack_name(stack).send().await {
        Ok(out) => Ok(out.stacks().first().map(|s| {
            s.outputs()
                .iter()
                .map(|o| {
                    (o.output_key().unwrap_or_default().to_string(), o.output_value().unwrap_or_default().to_string())
                })
                .collect()
        })),
        Err(err) => {
            let missing = fink_aws::code(&err) == Some("ValidationError")
                && err
                    .as_service_error()
                    .and_then(|e| e.meta().message())
                    .is_some_and(|m| m.contains("does not exist"));
            if missing {
                Ok(None)
            } else {
                Err(fink_aws::explain(&err))
            }
        }
    }
}

async fn parameters(client: &aws_sdk_ssm::Client, names: &[String]) -> Result<Vec<(String, Parameter)>, Error> {
    let out = client.get_parameters().set_names(Some(names.to_vec())).with_decryption(true).send().await.explained()?;
    Ok(out
        .parameters()
        .iter()
        .map(|p| {
            let secure = p.r#type() == Some(&ParameterType::SecureString);
            let value = Parameter { value: p.value().unwrap_or_default().to_string(), secure };
            (p.name().unwrap_or_default().to_string(), value)
        })
        .collect())
}

async fn secret(client: &aws_sdk_secretsmanager::Client, name: &str) -> Fetch<String> {
    match client.get_secret_value().secret_id(name).send().await {
        Ok(out) => match out.secret_string() {
            Some(s) => Ok(Some(s.to_string())),
            None => Err(Error::new(format!("secret '{name}' is binary; only string secrets can be looked up"))),
        },
        Err(err) if fink_aws::code(&err) == Some("ResourceNotFoundException") => Ok(None),
        Err(err) => Err(fink_aws::explain(&err)),
    }
}

/// One listing of ISSUED certificates (all pages). Where the listing lacks the alternative names
/// (moto leaves them out) each certificate is described.
async fn certificates(client: &aws_sdk_acm::Client) -> Result<Vec<Certificate>, Error> {
    let mut certs = Vec::new();
    let mut token = None;
    loop {
        let out = client
            .list_certificates()
            .certificate_statuses(CertificateStatus::Issued)
            // Without a key-type filter AWS lists only RSA-1024/2048 certificates.
            .includes(
                Filters::builder()
                    .set_key_types(Some(KeyAlgorithm::values().iter().map(|k| KeyAlgorithm::from(*k)).collect()))
                    .build(),
            )
            .set_next_token(token)
            .send()
            .await
            .explained()?;
        for summary in out.certificate_summary_list() {
            let Some(arn) = summary.certificate_arn() else { continue };
            let mut names: Vec<String> = summary.subject_alternative_name_summaries().to_vec();
            let mut not_after = summary.not_after().map(|t| t.secs());
            if names.is_empty()
                || summary.has_additional_subject_alternative_names() == Some(true)
                || not_after.is_none()
            {
                let detail = client.describe_certificate().certificate_arn(arn).send().await.explained()?;
                if let Some(cert) = detail.certificate() {
                    names = cert.subject_alternative_names().to_vec();
                    not_after = not_after.or(cert.not_after().map(|t| t.secs()));
                }
            }
            names.extend(summary.domain_name().map(String::from));
            let names = names.into_iter().map(|n| n.to_lowercase()).collect();
            certs.push(Certificate { arn: arn.to_string(), names, not_after: not_after.unwrap_or(0) });
        }
        token = out.next_token().map(String::from);
        if token.is_none() {
            return Ok(certs);
        }
    }
}
