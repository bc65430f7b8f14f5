//! Shared by fink's AWS plugins: the one place that turns the standard AWS settings (profiles,
//! SSO, env vars, `AWS_REGION`, `AWS_ENDPOINT_URL`) into an SDK config, a runtime to run SDK calls
//! in, and AWS errors turned into one clear line.
//!
//! Each plugin library owns its own tokio runtime: runtimes cannot cross the plugin boundary.

pub mod file;
pub mod interrupt;
pub mod timeouts;

use std::fmt::Display;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use fink_plugin_api::Error;

pub use aws_config;

/// A runtime for one handler call: SDK calls are IO-bound, so one thread serves many in flight.
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::new(format!("cannot start the async runtime: {e}")))
}

/// Loads the SDK config the standard way; `region` overrides the configured region. The profile
/// is the one [`profile`] names: `AWS_PROFILE`, else `AWS_DEFAULT_PROFILE` (which the SDK alone
/// ignores), else `default`. The region comes from [`configured_region`]. Every call made with it
/// ends within `FINK_AWS_TIMEOUT` ([`timeouts`]), the standard retries included; a bad value of
/// that variable is the error.
pub async fn load(region: Option<&str>) -> Result<SdkConfig, Error> {
    let timeouts = timeouts::Timeouts::from_env()?;
    // The loader hands the timeouts on to the credential providers it builds (SSO, assume role).
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts.config());
    let profile = profile();
    // The SDK reads AWS_PROFILE itself; only AWS_DEFAULT_PROFILE's name has to be passed on.
    let default_profile = match &profile {
        Some(Profile { name, from: ProfileSource::AwsDefaultProfile }) => Some(name.as_str()),
        _ => None,
    };
    if let Some(name) = default_profile {
        loader = loader.profile_name(name);
    }
    let region = match region {
        Some(region) => Some(Region::new(region.to_string())),
        None => configured_region(profile.as_ref()).await,
    };
    if region.is_none() {
        // Left to themselves, the SDK's credentials and token chains would look for a region
        // again, each through IMDS with retries and a warning. Without one they get none.
        use aws_config::default_provider::{credentials::DefaultCredentialsChain, token::DefaultTokenChain};
        let mut credentials = DefaultCredentialsChain::builder().region(None::<Region>);
        let mut token = DefaultTokenChain::builder().region(None::<Region>);
        if let Some(name) = default_profile {
            credentials = credentials.profile_name(name);
            token = token.profile_name(name);
        }
        loader = loader.credentials_provider(credentials.build().await).token_provider(token.build().await);
    }
    // Also when `None`: unset, the SDK's own region chain would ask IMDS again.
    Ok(loader.region(region).load().await)
}

/// The region the SDK's default chain finds (`AWS_REGION`/`AWS_DEFAULT_REGION`, the profile, then
/// the EC2 instance metadata), except that IMDS is asked once and quietly: off EC2, "no AWS
/// region configured" then comes within a second and without the SDK's warning about IMDS.
async fn configured_region(profile: Option<&Profile>) -> Option<Region> {
    use aws_config::meta::region::RegionProviderChain;
    let mut from_file = aws_config::profile::ProfileFileRegionProvider::builder();
    if let Some(profile) = profile {
        from_file = from_file.profile_name(&profile.name);
    }
    let chain = RegionProviderChain::first_try(aws_config::environment::EnvironmentVariableRegionProvider::new())
        .or_else(from_file.build());
    // An empty AWS_REGION counts as unset, as for the AWS CLI.
    if let Some(region) = chain.region().await.filter(|r| !r.as_ref().trim().is_empty()) {
        return Some(region);
    }
    if std::env::var("AWS_EC2_METADATA_DISABLED").is_ok_and(|v| v.eq_ignore_ascii_case("true")) {
        return None;
    }
    let imds = aws_config::imds::Client::builder()
        .max_attempts(1)
        .connect_timeout(std::time::Duration::from_millis(500))
        .read_timeout(std::time::Duration::from_secs(1))
        .build();
    match imds.get("/latest/meta-data/placement/region").await {
        Ok(region) => Some(Region::new(String::from(region))),
        Err(err) => {
            fink_plugin_api::debug!("no region from the EC2 instance metadata: {}", DisplayErrorContext(&err));
            None
        }
    }
}

/// The AWS profile fink uses and where its name came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    pub from: ProfileSource,
}

/// The variable that named the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileSource {
    AwsProfile,
    /// `AWS_DEFAULT_PROFILE`, which the AWS CLI v1 and boto3 (so gcdt) read when `AWS_PROFILE` is unset.
    AwsDefaultProfile,
}

impl std::fmt::Display for Profile {
    /// `profile 'ops' from AWS_DEFAULT_PROFILE`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let variable = match self.from {
            ProfileSource::AwsProfile => "AWS_PROFILE",
            ProfileSource::AwsDefaultProfile => "AWS_DEFAULT_PROFILE",
        };
        write!(f, "profile '{}' from {variable}", self.name)
    }
}

/// The profile named by `AWS_PROFILE`, else by `AWS_DEFAULT_PROFILE`; `None`: the SDK's `default`.
pub fn profile() -> Option<Profile> {
    chosen_profile(std::env::var("AWS_PROFILE").ok(), std::env::var("AWS_DEFAULT_PROFILE").ok())
}

fn chosen_profile(aws_profile: Option<String>, aws_default_profile: Option<String>) -> Option<Profile> {
    let set = |v: Option<String>| v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    match (set(aws_profile), set(aws_default_profile)) {
        (Some(name), _) => Some(Profile { name, from: ProfileSource::AwsProfile }),
        (None, Some(name)) => Some(Profile { name, from: ProfileSource::AwsDefaultProfile }),
        (None, None) => None,
    }
}

/// The same config for another region.
pub fn in_region(config: &SdkConfig, region: &str) -> SdkConfig {
    config.to_builder().region(Region::new(region.to_string())).build()
}

/// Runs an AWS job on a fresh runtime with the standard SDK config (in `region` when given),
/// after checking that a region is configured: the usual body of a tool command.
pub fn run<T, F, Fut>(region: Option<&str>, job: F) -> Result<T, Error>
where
    F: FnOnce(SdkConfig) -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    runtime()?.block_on(async {
        let config = load(region).await?;
        self::region(&config)?;
        job(config).await
    })
}

/// The configured region, or an error saying how to set one.
pub fn region(config: &SdkConfig) -> Result<String, Error> {
    config.region().map(|r| r.to_string()).filter(|r| !r.trim().is_empty()).ok_or_else(|| {
        Error::new("no AWS region configured")
            .with_help("set AWS_REGION (or AWS_DEFAULT_REGION), or `region` in your AWS profile")
    })
}

/// The AWS error code (e.g. `ValidationError`), if the service sent one.
pub fn code<E: ProvideErrorMetadata>(err: &SdkError<E>) -> Option<&str> {
    match err {
        SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    }
}

/// `.explained()` on the result of an SDK call: its error becomes [`explain`]'s one line, so a
/// call reads `client.get_template().send().await.explained()?`.
pub trait Explained<T> {
    /// The value, or the error explained.
    fn explained(self) -> Result<T, Error>;
}

impl<T, E> Explained<T> for Result<T, SdkError<E>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    fn explained(self) -> Result<T, Error> {
        self.map_err(|e| explain(&e))
    }
}

/// One line for the user: what went wrong and, for credential problems, what to set.
pub fn explain<E>(err: &SdkError<E>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    if let SdkError::ServiceError(service) = err {
        let (code, message) = (service.err().code(), service.err().message().unwrap_or(""));
        if code.is_none() && message.trim().is_empty() {
            // An answer the SDK could not read as an AWS error (e.g. a server's HTML error page).
            return Error::new(format!("AWS answered HTTP {} without saying why", service.raw().status().as_u16()));
        }
        return service_answer(code.unwrap_or("error"), message);
    }
    // Not a service answer: the request never got out. The innermost cause says why.
    let full = DisplayErrorContext(err).to_string().to_lowercase();
    if full.contains("credential") {
        return no_credentials();
    }
    let mut cause: &dyn std::error::Error = err;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    let timed_out = match err {
        SdkError::TimeoutError(_) => true,
        SdkError::DispatchFailure(failure) => failure.as_connector_error().is_some_and(|e| e.is_timeout()),
        _ => false,
    };
    if timed_out || matches!(err, SdkError::DispatchFailure(_)) {
        let endpoint = configured_endpoint(
            std::env::var("AWS_ENDPOINT_URL").ok(),
            std::env::var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").ok(),
        );
        if timed_out {
            return no_answer(&cause.to_string(), step::<E>().as_deref(), endpoint.as_deref());
        }
        return unreachable(&cause.to_string(), endpoint.as_deref());
    }
    Error::new(one_line(format!("AWS request failed: {cause}")))
}

/// An error AWS answered with: credential problems say what to do, the rest is `code: message`.
fn service_answer(code: &str, message: &str) -> Error {
    if matches!(code, "ExpiredToken" | "ExpiredTokenException" | "RequestExpired") {
        return Error::new(format!("AWS credentials expired ({code})"))
            .with_help("refresh them (e.g. `aws sso login`) and try again");
    }
    if matches!(code, "InvalidClientTokenId" | "UnrecognizedClientException" | "SignatureDoesNotMatch") {
        return Error::new(one_line(format!("AWS rejected the credentials ({code}: {message})")))
            .with_help("check AWS_PROFILE / AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
    }
    Error::new(one_line(format!("{code}: {message}")))
}

fn no_credentials() -> Error {
    Error::new("no AWS credentials found").with_help(
        "set AWS_PROFILE (and run `aws sso login` for SSO profiles) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    )
}

/// The endpoint every service is sent to, from the values of `AWS_ENDPOINT_URL` and
/// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` as the SDK's standard config reads them: unset, empty,
/// or ignored (`true`) is none.
fn configured_endpoint(url: Option<String>, ignore: Option<String>) -> Option<String> {
    let ignored = ignore.is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    url.map(|v| v.trim().to_string()).filter(|v| !ignored && !v.is_empty())
}

/// A request that never got an answer (after the SDK's retries). With `AWS_ENDPOINT_URL` set, the
/// line names it: a typo there is the likeliest cause, so there is nothing more to add.
fn unreachable(cause: &str, endpoint: Option<&str>) -> Error {
    match endpoint {
        Some(url) => Error::new(one_line(format!("cannot reach AWS at {url} (AWS_ENDPOINT_URL): {cause}"))),
        None => Error::new(one_line(format!("cannot reach AWS: {cause}")))
            .with_help("check your network, AWS_ENDPOINT_URL and AWS_REGION"),
    }
}

/// A request that got no answer in time (connect, attempt or whole-call timeout, after the
/// retries): names the endpoint, the call and the bound, from the SDK's innermost cause
/// (`HTTP read timeout occurred after 20s`, `operation timeout (all attempts including retries)
/// occurred after 50s`).
fn no_answer(cause: &str, step: Option<&str>, endpoint: Option<&str>) -> Error {
    let connect = cause.contains("connect timeout");
    let whole_call = cause.contains("all attempts");
    let within = match seconds_after(cause) {
        Some(seconds) if whole_call => format!(" within {seconds} s"),
        Some(seconds) => format!(" within {seconds} s per attempt"),
        None => String::new(),
    };
    let what = if connect { "no connection to" } else { "no answer from" };
    let to = step.map(|s| format!(" to {s}")).unwrap_or_default();
    match endpoint {
        Some(url) => Error::new(one_line(format!("{what} {url} (AWS_ENDPOINT_URL){to}{within}"))),
        None => Error::new(one_line(format!("{what} AWS{to}{within}"))).with_help(format!(
            "check your network and AWS_REGION; {} sets how long fink waits for a call (default {} s)",
            timeouts::VARIABLE,
            timeouts::DEFAULT_SECONDS
        )),
    }
}

/// The seconds in `… after 20s` / `after 1.2s` / `after 500ms` (a `Duration`'s debug form), as
/// `20`, `1.2`, `0.5`.
fn seconds_after(text: &str) -> Option<String> {
    let figure = text.rsplit_once("after ")?.1.split_whitespace().next()?;
    let seconds = match figure.strip_suffix("ms") {
        Some(millis) => millis.parse::<f64>().ok()? / 1000.0,
        None => figure.strip_suffix('s')?.parse::<f64>().ok()?,
    };
    let shown = format!("{seconds:.1}");
    Some(shown.strip_suffix(".0").map(String::from).unwrap_or(shown))
}

/// The call an SDK error type belongs to, from its name: `CloudFormation DescribeStacks` for
/// `aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksError`.
fn step<E>() -> Option<String> {
    step_of(std::any::type_name::<E>())
}

fn step_of(type_name: &str) -> Option<String> {
    let mut parts = type_name.split("::");
    let service = parts.next()?.strip_prefix("aws_sdk_")?;
    let operation = type_name.rsplit("::").next()?.strip_suffix("Error").filter(|o| !o.is_empty())?;
    if parts.next() != Some("operation") {
        return None;
    }
    let service = match service {
        "apigateway" => "API Gateway",
        "cloudformation" => "CloudFormation",
        "cloudwatch" => "CloudWatch",
        "cloudwatchlogs" => "CloudWatch Logs",
        "codedeploy" => "CodeDeploy",
        "dynamodb" => "DynamoDB",
        "eventbridge" => "EventBridge",
        "lambda" => "Lambda",
        "route53" => "Route 53",
        "secretsmanager" => "Secrets Manager",
        other => return Some(format!("{} {operation}", other.to_uppercase())),
    };
    Some(format!("{service} {operation}"))
}

fn one_line(text: impl Display) -> String {
    text.to_string().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The caller's identity, as the credentials check records it.
pub struct Identity {
    pub account: String,
    pub arn: String,
    pub region: String,
}

/// Verifies credentials with STS GetCallerIdentity.
pub async fn identity(config: &SdkConfig) -> Result<Identity, Error> {
    let region = region(config)?;
    let out = aws_sdk_sts::Client::new(config).get_caller_identity().send().await.explained()?;
    Ok(Identity {
        account: out.account().unwrap_or_default().to_string(),
        arn: out.arn().unwrap_or_default().to_string(),
        region,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_profile_wins_over_aws_default_profile_and_empty_means_unset() {
        let some = |s: &str| Some(s.to_string());
        let profile = |name: &str, from| Some(Profile { name: name.into(), from });
        assert_eq!(chosen_profile(some("a"), some("b")), profile("a", ProfileSource::AwsProfile));
        assert_eq!(chosen_profile(None, some("b")), profile("b", ProfileSource::AwsDefaultProfile));
        assert_eq!(chosen_profile(some(" "), some("b")), profile("b", ProfileSource::AwsDefaultProfile));
        assert_eq!(chosen_profile(None, some("")), None);
        assert_eq!(chosen_profile(None, None), None);
        let shown = chosen_profile(None, some("ops")).map(|p| p.to_string());
        assert_eq!(shown.as_deref(), Some("profile 'ops' from AWS_DEFAULT_PROFILE"));
    }

    #[test]
    fn the_endpoint_is_the_set_and_not_ignored_aws_endpoint_url() {
        let some = |s: &str| Some(s.to_string());
        assert_eq!(configured_endpoint(some("http://127.0.0.1:1"), None), some("http://127.0.0.1:1"));
        assert_eq!(configured_endpoint(some(" http://h:4566 "), some("false")), some("http://h:4566"));
        assert_eq!(configured_endpoint(some("http://h:4566"), some("TRUE")), None);
        assert_eq!(configured_endpoint(some(""), None), None);
        assert_eq!(configured_endpoint(None, None), None);
    }

    #[test]
    fn an_unreachable_endpoint_is_named_in_one_line() {
        let err = unreachable("Connection refused (os error 111)", Some("http://127.0.0.1:1"));
        assert_eq!(
            err.message(),
            "cannot reach AWS at http://127.0.0.1:1 (AWS_ENDPOINT_URL): Connection refused (os error 111)"
        );
        assert_eq!(err.help(), None);
        let err = unreachable("dns error:\n  failed to lookup address", Some("http://motto:5000"));
        assert_eq!(
            err.message(),
            "cannot reach AWS at http://motto:5000 (AWS_ENDPOINT_URL): dns error: failed to lookup address"
        );
    }

    #[test]
    fn a_silent_endpoint_is_named_with_the_call_and_the_bound() {
        let step = Some("CloudFormation DescribeStacks");
        let err = no_answer(
            "operation timeout (all attempts including retries) occurred after 50s",
            step,
            Some("http://127.0.0.1:9"),
        );
        assert_eq!(
            err.message(),
            "no answer from http://127.0.0.1:9 (AWS_ENDPOINT_URL) to CloudFormation DescribeStacks within 50 s"
        );
        assert_eq!(err.help(), None);
        let err = no_answer("HTTP read timeout occurred after 1.2s", Some("STS GetCallerIdentity"), None);
        assert_eq!(err.message(), "no answer from AWS to STS GetCallerIdentity within 1.2 s per attempt");
        assert!(err.help().unwrap().contains("FINK_AWS_TIMEOUT"), "{:?}", err.help());
        let err = no_answer("HTTP connect timeout occurred after 5s", None, Some("http://10.0.0.1:443"));
        assert_eq!(err.message(), "no connection to http://10.0.0.1:443 (AWS_ENDPOINT_URL) within 5 s per attempt");
        let err = no_answer("timed out", None, None);
        assert_eq!(err.message(), "no answer from AWS");
    }

    #[test]
    fn durations_and_steps_are_read_from_the_sdk() {
        assert_eq!(seconds_after("occurred after 500ms").as_deref(), Some("0.5"));
        assert_eq!(seconds_after("occurred after 3s").as_deref(), Some("3"));
        assert_eq!(seconds_after("occurred after soon"), None);
        assert_eq!(
            step_of("aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksError").as_deref(),
            Some("CloudFormation DescribeStacks")
        );
        assert_eq!(
            step_of("aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError").as_deref(),
            Some("STS GetCallerIdentity")
        );
        assert_eq!(
            step::<aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError>().as_deref(),
            Some("STS GetCallerIdentity")
        );
        assert_eq!(step_of("std::io::Error"), None);
        assert_eq!(step_of("aws_sdk_s3::Error"), None);
    }

    #[test]
    fn without_an_endpoint_the_help_says_what_to_check() {
        let err = unreachable("HTTP read timeout occurred after 3.1s", None);
        assert_eq!(err.message(), "cannot reach AWS: HTTP read timeout occurred after 3.1s");
        assert_eq!(err.help(), Some("check your network, AWS_ENDPOINT_URL and AWS_REGION"));
    }

    #[test]
    fn service_answers_are_one_line_and_credential_problems_say_what_to_do() {
        let err = service_answer("ValidationError", "Stack with id x\n does not exist");
        assert_eq!(err.message(), "ValidationError: Stack with id x does not exist");
        assert_eq!(err.help(), None);
        let err = service_answer("ExpiredToken", "The security token included in the request is expired");
        assert_eq!(err.message(), "AWS credentials expired (ExpiredToken)");
        assert!(err.help().unwrap().contains("aws sso login"));
        let err = service_answer("InvalidClientTokenId", "The security token is invalid.");
        assert_eq!(
            err.message(),
            "AWS rejected the credentials (InvalidClientTokenId: The security token is invalid.)"
        );
        assert!(err.help().unwrap().contains("AWS_ACCESS_KEY_ID"));
    }

    #[test]
    fn sdk_errors_are_explained_through_the_extension_trait() {
        use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError;
        let failed: Result<(), SdkError<GetCallerIdentityError>> =
            Err(SdkError::construction_failure("no credentials provider could load credentials"));
        let err = failed.explained().unwrap_err();
        assert_eq!(err.message(), "no AWS credentials found");
        let failed: Result<(), SdkError<GetCallerIdentityError>> = Err(SdkError::dispatch_failure(
            aws_sdk_sts::error::ConnectorError::io("Connection refused (os error 111)".into()),
        ));
        let err = failed.explained().unwrap_err();
        assert!(err.message().starts_with("cannot reach AWS"), "{}", err.message());
        assert!(err.message().ends_with("Connection refused (os error 111)"), "{}", err.message());
        assert_eq!(Ok::<u8, SdkError<GetCallerIdentityError>>(7).explained().unwrap(), 7);
        let failed: Result<(), SdkError<GetCallerIdentityError>> =
            Err(SdkError::timeout_error("operation timeout (all attempts including retries) occurred after 3s"));
        let err = failed.explained().unwrap_err();
        assert!(err.message().starts_with("no answer from "), "{}", err.message());
        assert!(err.message().ends_with(" to STS GetCallerIdentity within 3 s"), "{}", err.message());
    }
}
