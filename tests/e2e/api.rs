//! The api tool (API Gateway) through the real binary against moto: create, unchanged redeploy,
//! update, stage settings, lambda permissions, API keys and usage plans, custom domains with
//! Route 53, export, list, delete, and every way the template or config can be wrong.
//!
//! moto imports OpenAPI 3 only and stores no cache settings from CreateDeployment: the Swagger 2.0
//! test and the cache test assert the requests fink sent (moto's recorder), not what moto kept.

use aws_sdk_apigateway::Client as ApiGateway;
use fink_test_support::{block_on, Moto, REGION};
use serde_json::{json, Value};

use crate::aws::{self, unique};
use crate::proxy::Proxy;
use crate::support::{Project, Run};
use crate::webhook::{Reply, Webhook};

const PLUGINS: &[&str] = &["fink-plugin-config-reader", "fink-plugin-apigateway"];

/// An OpenAPI 3 template with one path integrating the `helloRef` function.
const SWAGGER: &str = r#"openapi: 3.0.1
info:
  title: "{{apiName}}"
  description: "{{apiDescription}}"
  version: "1"
servers:
  - url: "https://{{apiHostname}}{{apiBasePath}}"
paths:
  /hi:
    get:
      responses:
        "200":
          description: hello
      x-amazon-apigateway-integration:
        type: aws_proxy
        httpMethod: POST
        uri: "{{helloRef}}"
"#;

/// A second path, for updates.
const BYE: &str = r#"  /bye:
    get:
      responses:
        "200":
          description: bye
      x-amazon-apigateway-integration:
        type: aws_proxy
        httpMethod: POST
        uri: "{{helloRef}}"
"#;

/// A project deploying API `name` integrating function `<name>-fn` (created, with an ACTIVE alias).
struct Api {
    project: Project,
    name: String,
    function: String,
    alias_arn: String,
}

impl Api {
    fn new(moto: &Moto, tag: &str, api: Value) -> Api {
        Api::with(moto, tag, PLUGINS, api, json!({}))
    }

    /// With other plugins, `settings` merged into `api.api` and `extra` top-level keys.
    fn with(moto: &Moto, tag: &str, plugins: &[&str], settings: Value, extra: Value) -> Api {
        let name = unique(tag);
        let function = format!("{name}-fn");
        aws::function(moto, &function);
        let alias_arn = aws::alias(moto, &function, "ACTIVE");
        let project = Project::with(plugins).aws(moto);
        project.file("swagger.yaml", SWAGGER);
        let api = Api { project, name, function, alias_arn };
        api.config(api_section(&api.name, &api.function, settings, extra));
        api
    }

    fn config(&self, config: Value) {
        self.project.file("fink_dev.json", &config.to_string());
    }

    fn fink(&self, args: &[&str]) -> Run {
        let mut all = vec!["api"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-e", "dev"]);
        self.project.fink(&all)
    }

    fn uri(&self) -> String {
        format!("arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{}/invocations", self.alias_arn)
    }
}

/// `fink_dev.json` for API `name` on stage dev integrating `function` as `helloRef`.
fn api_section(name: &str, function: &str, api: Value, extra: Value) -> Value {
    let mut config = json!({"api": {
        "api": {"name": name, "description": "the hello API", "targetStage": "dev"},
        "lambda": {"entries": [{"name": function, "alias": "ACTIVE", "swaggerRef": "helloRef"}]}
    }});
    for (key, value) in api.as_object().into_iter().flatten() {
        config["api"]["api"][key] = value.clone();
    }
    for (key, value) in extra.as_object().into_iter().flatten() {
        if key == "api" {
            for (k, v) in value.as_object().into_iter().flatten() {
                config["api"][k] = v.clone();
            }
        } else {
            config[key] = value.clone();
        }
    }
    config
}

async fn client(moto: &Moto) -> ApiGateway {
    ApiGateway::new(&moto.sdk_config(REGION).await)
}

/// The ids of the REST APIs named `name`.
fn api_ids(moto: &Moto, name: &str) -> Vec<String> {
    block_on(async {
        let out = client(moto).await.get_rest_apis().limit(500).send().await.unwrap();
        out.items().iter().filter(|a| a.name() == Some(name)).filter_map(|a| a.id().map(String::from)).collect()
    })
}

/// The id in `API '<name>' (<id>) created from swagger.yaml`.
fn created_id(run: &Run, name: &str) -> String {
    let prefix = format!("API '{name}' (");
    let line = run.stdout.lines().find(|l| l.starts_with(&prefix) && l.ends_with(") created from swagger.yaml"));
    let line = line.unwrap_or_else(|| panic!("no created line in {}", run.stdout));
    line[prefix.len()..].split(')').next().unwrap().to_string()
}

/// Resource path → methods of the API.
fn resources(moto: &Moto, id: &str) -> Vec<(String, Vec<String>)> {
    block_on(async {
        let out = client(moto).await.get_resources().rest_api_id(id).embed("methods").send().await.unwrap();
        let mut found: Vec<(String, Vec<String>)> = out
            .items()
            .iter()
            .map(|r| {
                let mut methods: Vec<String> =
                    r.resource_methods().map(|m| m.keys().cloned().collect()).unwrap_or_default();
                methods.sort();
                (r.path().unwrap_or_default().to_string(), methods)
            })
            .collect();
        found.sort();
        found
    })
}

fn integration_uri(moto: &Moto, id: &str, path: &str) -> String {
    block_on(async {
        let client = client(moto).await;
        let out = client.get_resources().rest_api_id(id).send().await.unwrap();
        let resource = out.items().iter().find(|r| r.path() == Some(path)).unwrap().id().unwrap().to_string();
        let integration =
            client.get_integration().rest_api_id(id).resource_id(resource).http_method("GET").send().await.unwrap();
        integration.uri().unwrap_or_default().to_string()
    })
}

/// The statements of the alias's policy: (Sid, SourceArn).
fn statements(moto: &Moto, alias_arn: &str) -> Vec<(String, String)> {
    block_on(async {
        let lambda = aws_sdk_lambda::Client::new(&moto.sdk_config(REGION).await);
        let Ok(out) = lambda.get_policy().function_name(alias_arn).send().await else { return Vec::new() };
        let doc: Value = serde_json::from_str(out.policy().unwrap_or("{}")).unwrap();
        doc["Statement"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                let source = s.pointer("/Condition/ArnLike/AWS:SourceArn").and_then(Value::as_str).unwrap_or_default();
                (s["Sid"].as_str().unwrap_or_default().to_string(), source.to_string())
            })
            .collect()
    })
}

/// The REST calls moto saw to API Gateway paths of API `id`, as `METHOD /path`.
fn api_calls(calls: &[fink_test_support::Call], id: &str) -> Vec<String> {
    let prefix = format!("/restapis/{id}");
    calls.iter().filter(|c| c.path.starts_with(&prefix)).map(|c| format!("{} {}", c.method, c.path)).collect()
}

#[test]
fn deploy_creates_then_leaves_an_unchanged_api_alone_then_updates_it() {
    let moto = Moto::shared();
    let api = Api::new(moto, "apicreate", json!({}));

    let run = api.fink(&["deploy"]).ok();
    let id = created_id(&run, &api.name);
    assert_eq!(api_ids(moto, &api.name), vec![id.clone()]);
    run.stdout_has("stage dev: deployment ")
        .stdout_has(&format!("permission for the API to invoke {}:ACTIVE: added", api.function))
        .stdout_has(&format!("URL: https://{id}.execute-api.{REGION}.amazonaws.com/dev"));
    assert_eq!(resources(moto, &id), [("/".to_string(), vec![]), ("/hi".to_string(), vec!["GET".to_string()])]);
    assert_eq!(integration_uri(moto, &id, "/hi"), api.uri());
    let source = format!("arn:aws:execute-api:{REGION}:123456789012:{id}/*");
    assert_eq!(statements(moto, &api.alias_arn), [(format!("fink-api-{id}"), source.clone())]);
    let stage =
        block_on(async { client(moto).await.get_stage().rest_api_id(&id).stage_name("dev").send().await.unwrap() });
    assert!(stage.deployment_id().is_some());

    // Unchanged: no PutRestApi, no CreateDeployment, no second permission.
    let (run, calls) = moto.record(|| api.fink(&["deploy"]));
    run.ok()
        .stdout_has(&format!(
            "API '{}' ({id}) is up to date: swagger.yaml and the stage settings are unchanged",
            api.name
        ))
        .stdout_has(&format!("URL: https://{id}.execute-api.{REGION}.amazonaws.com/dev"));
    let changes: Vec<String> = api_calls(&calls, &id).into_iter().filter(|c| !c.starts_with("GET ")).collect();
    assert!(changes.is_empty(), "an unchanged deploy changes nothing: {changes:?}");
    assert!(api_calls(&calls, &id).iter().any(|c| c == &format!("GET /restapis/{id}/stages/dev")), "{calls:?}");
    let policy_writes =
        calls.iter().filter(|c| c.method == "POST" && c.path.ends_with("/policy") && c.path.contains(&api.function));
    assert_eq!(policy_writes.count(), 0, "no AddPermission: {calls:?}");

    // A new path: PutRestApi (overwrite) and a new deployment, still one permission.
    api.project.file("swagger.yaml", &format!("{SWAGGER}{BYE}"));
    let (run, calls) = moto.record(|| api.fink(&["deploy"]));
    run.ok().stdout_has(&format!("API '{}' ({id}) updated from swagger.yaml", api.name));
    let changes: Vec<String> = api_calls(&calls, &id).into_iter().filter(|c| !c.starts_with("GET ")).collect();
    assert_eq!(changes, [format!("PUT /restapis/{id}"), format!("POST /restapis/{id}/deployments")]);
    let put = calls.iter().find(|c| c.method == "PUT" && c.path == format!("/restapis/{id}")).unwrap();
    assert!(put.body.contains("/bye") && put.body.contains(&api.uri()), "{}", put.body);
    assert_eq!(
        resources(moto, &id),
        [("/", vec![]), ("/bye", vec!["GET"]), ("/hi", vec!["GET"])]
            .map(|(p, m)| (p.to_string(), m.into_iter().map(String::from).collect::<Vec<_>>()))
    );
    assert_eq!(statements(moto, &api.alias_arn), [(format!("fink-api-{id}"), source)]);
    assert_eq!(api_ids(moto, &api.name), [id], "still one API of that name");
}

#[test]
fn stage_cache_and_method_settings_are_applied_and_kept() {
    let moto = Moto::shared();
    let settings = json!({"cacheClusterEnabled": true, "cacheClusterSize": "1.6", "methodSettings": {
        "/hi/GET": {"cachingEnabled": true, "cacheTtlInSeconds": 60, "loggingLevel": "INFO"}
    }});
    let api = Api::new(moto, "apistage", settings.clone());
    let (run, calls) = moto.record(|| api.fink(&["deploy"]));
    let id = created_id(&run.ok(), &api.name);
    // moto does not keep the cache settings of CreateDeployment: check what fink asked for.
    let deployment =
        calls.iter().find(|c| c.method == "POST" && c.path == format!("/restapis/{id}/deployments")).unwrap();
    let body: Value = serde_json::from_str(&deployment.body).unwrap();
    assert_eq!(
        (&body["stageName"], &body["cacheClusterEnabled"], &body["cacheClusterSize"]),
        (&json!("dev"), &json!(true), &json!("1.6"))
    );
    let stage =
        block_on(async { client(moto).await.get_stage().rest_api_id(&id).stage_name("dev").send().await.unwrap() });
    let hi = &stage.method_settings().unwrap()["~1hi/GET"];
    assert!(hi.caching_enabled());
    assert_eq!((hi.cache_ttl_in_seconds(), hi.logging_level()), (60, Some("INFO")));

    // The same settings again: nothing to do.
    api.fink(&["deploy"]).ok().stdout_has("is up to date");

    // Caching off for /hi: only the stage changes, the API is not redeployed.
    let mut changed = settings.clone();
    changed["methodSettings"]["/hi/GET"]["cachingEnabled"] = json!(false);
    api.config(api_section(&api.name, &api.function, changed, json!({})));
    let (run, calls) = moto.record(|| api.fink(&["deploy"]));
    run.ok().stdout_has(&format!("API '{}' ({id}) is unchanged; stage dev: 1 setting(s) changed", api.name));
    let changes: Vec<String> = api_calls(&calls, &id).into_iter().filter(|c| !c.starts_with("GET ")).collect();
    assert_eq!(changes, [format!("PATCH /restapis/{id}/stages/dev")]);
    let patch = calls.iter().find(|c| c.method == "PATCH").unwrap();
    assert!(patch.body.contains("/~1hi/GET/caching/enabled"), "{}", patch.body);
    let stage =
        block_on(async { client(moto).await.get_stage().rest_api_id(&id).stage_name("dev").send().await.unwrap() });
    assert!(!stage.method_settings().unwrap()["~1hi/GET"].caching_enabled());
}

#[test]
fn api_keys_are_created_listed_masked_wired_through_a_usage_plan_once_and_deleted() {
    let moto = Moto::shared();
    let key_name = unique("key");
    let project = Project::with(PLUGINS).aws(moto);
    let run = project.fink(&["api", "apikey-create", &key_name]).ok();
    let line = run.stdout.lines().find(|l| l.starts_with(&format!("API key '{key_name}' created: id "))).unwrap();
    let key_id = line.rsplit(' ').next().unwrap().to_string();
    let run = run.stdout_has("value: ********");
    let value =
        block_on(async { client(moto).await.get_api_key().api_key(&key_id).include_value(true).send().await.unwrap() })
            .value()
            .unwrap()
            .to_string();
    assert!(!run.stdout.contains(&value), "{}", run.stdout);
    project
        .fink(&["api", "apikey-create", &key_name])
        .code(1)
        .stderr_has(&format!("an API key named '{key_name}' exists already (id {key_id})"));

    let listed = project.fink(&["api", "apikey-list", "--json"]).ok().json();
    let row = listed.as_array().unwrap().iter().find(|k| k["id"] == json!(key_id)).cloned().unwrap();
    assert_eq!((&row["name"], &row["enabled"], &row["value"]), (&json!(key_name), &json!(true), &json!("********")));
    let table = project.fink(&["api", "apikey-list"]).ok();
    assert!(table.stdout.contains(&key_name) && !table.stdout.contains(&value), "{}", table.stdout);
    project.fink(&["api", "apikey-list", "--show-secrets"]).ok().stdout_has(&value);

    // Wired to the stage by deploy, once.
    let api = Api::new(moto, "apikey", json!({"apiKey": key_id}));
    let run = api.fink(&["deploy"]).ok();
    let id = created_id(&run, &api.name);
    let plan = format!("{}-dev", api.name);
    run.stdout_has(&format!("API key {key_id}: wired to stage dev through usage plan {plan} (created)"));
    let plans = block_on(async { client(moto).await.get_usage_plans().key_id(&key_id).send().await.unwrap() });
    let stages: Vec<(String, String)> = plans
        .items()
        .iter()
        .flat_map(|p| p.api_stages().iter().map(|s| (s.api_id().unwrap().to_string(), s.stage().unwrap().to_string())))
        .collect();
    assert_eq!(stages, [(id.clone(), "dev".to_string())]);
    let (run, calls) = moto.record(|| api.fink(&["deploy"]));
    let run = run.ok();
    assert!(!run.stdout.contains("wired"), "{}", run.stdout);
    assert!(!calls.iter().any(|c| c.method == "POST" && c.path.starts_with("/usageplans")), "{calls:?}");

    let unknown = Api::new(moto, "apikeyx", json!({"apiKey": "nokey123"}));
    unknown.fink(&["deploy"]).code(1).stderr_has("api.api.apiKey: there is no API key with id 'nokey123'");

    project
        .fink(&["api", "apikey-delete", &key_name])
        .ok()
        .stdout_has(&format!("API key '{key_name}' ({key_id}) deleted"));
    let gone = project.fink(&["api", "apikey-list", "--json"]).ok().json();
    assert!(gone.as_array().unwrap().iter().all(|k| k["id"] != json!(key_id)), "{gone}");
    project
        .fink(&["api", "apikey-delete", &key_name])
        .code(1)
        .stderr_has(&format!("there is no API key named or with id '{key_name}'"));
}

#[test]
fn a_custom_domain_gets_its_base_path_and_route53_record_once() {
    let moto = Moto::shared();
    let zone_name = format!("{}.example.com", unique("zone"));
    let zone = block_on(async {
        let route53 = aws_sdk_route53::Client::new(&moto.sdk_config(REGION).await);
        let out = route53.create_hosted_zone().name(&zone_name).caller_reference(&zone_name).send().await.unwrap();
        out.hosted_zone().unwrap().id().trim_start_matches("/hostedzone/").to_string()
    });
    let domain = format!("api.{zone_name}");
    let custom = json!({"api": {"customDomain": {
        "domainName": domain, "basePath": "v1", "certificateName": "wildcard",
        "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0d7b", "hostedDomainZoneId": zone,
        "route53Record": domain, "ensureCname": true
    }}});
    let api = Api::with(moto, "apidomain", PLUGINS, json!({}), custom);
    let run = api.fink(&["deploy"]).ok();
    let id = created_id(&run, &api.name);
    let run = run
        .stdout_has(&format!("custom domain {domain}: created"))
        .stdout_has(&format!("base path https://{domain}/v1: mapped to stage dev of API {id}"))
        .stdout_has(&format!("URL: https://{domain}/v1"));
    let (mapping, distribution) = block_on(async {
        let client = client(moto).await;
        let mappings = client.get_base_path_mappings().domain_name(&domain).send().await.unwrap();
        let m = mappings.items().first().unwrap().clone();
        let d = client.get_domain_name().domain_name(&domain).send().await.unwrap();
        (
            (m.base_path().unwrap().to_string(), m.rest_api_id().unwrap().to_string(), m.stage().unwrap().to_string()),
            d.distribution_domain_name().unwrap().to_string(),
        )
    });
    assert_eq!(mapping, ("v1".to_string(), id.clone(), "dev".to_string()));
    run.stdout_has(&format!("route53 record {domain}: CNAME to {distribution}"));
    let record = block_on(async {
        let route53 = aws_sdk_route53::Client::new(&moto.sdk_config(REGION).await);
        let sets = route53.list_resource_record_sets().hosted_zone_id(&zone).send().await.unwrap();
        sets.resource_record_sets()
            .iter()
            .find(|s| s.r#type() == &aws_sdk_route53::types::RrType::Cname)
            .map(|s| (s.name().to_string(), s.resource_records()[0].value().to_string()))
    });
    assert_eq!(record, Some((format!("{domain}."), distribution.clone())));

    // Again, as deploy and as custom-domain-create: everything is looked up, nothing changed.
    for command in ["deploy", "custom-domain-create"] {
        let (run, calls) = moto.record(|| api.fink(&[command]));
        run.ok()
            .stdout_has(&format!("custom domain {domain}: unchanged"))
            .stdout_has(&format!("base path https://{domain}/v1: unchanged"))
            .stdout_has(&format!("route53 record {domain}: unchanged"));
        let writes: Vec<&str> = calls
            .iter()
            .filter(|c| c.method != "GET" && (c.path.starts_with("/domainnames") || c.path.contains("/rrset")))
            .map(|c| c.path.as_str())
            .collect();
        assert!(writes.is_empty(), "{command}: {writes:?}");
    }

    // A new certificate: UpdateDomainName, which the proxy plays for moto (see proxy.rs).
    let proxy = Proxy::start(moto.endpoint());
    let renewed = "arn:aws:acm:us-east-1:123456789012:certificate/1e8c";
    let mut config: Value =
        serde_json::from_str(&std::fs::read_to_string(api.project.dir().join("fink_dev.json")).unwrap()).unwrap();
    config["api"]["customDomain"]["certificateArn"] = json!(renewed);
    api.config(config);
    let mut deploy = api.project.command(&["api", "deploy", "-e", "dev"]);
    let run = Run::from(deploy.env("AWS_ENDPOINT_URL", proxy.endpoint()).output().unwrap());
    run.ok().stdout_has(&format!("custom domain {domain}: certificate changed to {renewed}"));
    let replace = |path: &str, value: &str| json!({"op": "replace", "path": path, "value": value});
    assert_eq!(
        proxy.domain_updates(),
        [(
            domain.clone(),
            json!({"patchOperations": [replace("/certificateArn", renewed), replace("/certificateName", "wildcard")]})
        )]
    );
}

#[test]
fn export_list_and_delete() {
    let moto = Moto::shared();
    let api = Api::new(moto, "apiexport", json!({}));
    let id = created_id(&api.fink(&["deploy"]).ok(), &api.name);

    let exported: Value = serde_json::from_str(&api.fink(&["export", "-o", "-"]).ok().stdout).unwrap();
    // moto writes the method as GET, AWS as get.
    let methods = exported["paths"]["/hi"].as_object().map(|m| m.keys().map(|k| k.to_lowercase()).collect::<Vec<_>>());
    assert_eq!(methods, Some(vec!["get".to_string()]), "{exported:#}");
    // Without --output: the file gcdt's `yugen export` wrote.
    api.fink(&["export"]).ok().stdout_has("exported to swagger_export.yaml");
    let default = std::fs::read_to_string(api.project.dir().join("swagger_export.yaml")).unwrap();
    assert!(default.contains("\n  /hi:\n"), "{default}");
    api.fink(&["export", "--output", "api.yaml"]).ok().stdout_has("exported to api.yaml");
    let yaml = std::fs::read_to_string(api.project.dir().join("api.yaml")).unwrap();
    assert!(yaml.contains("\n  /hi:\n") && yaml.contains(&format!("title: {}", api.name)), "{yaml}");
    api.fink(&["export", "-o", "api.json"]).ok();
    let json_file: Value =
        serde_json::from_str(&std::fs::read_to_string(api.project.dir().join("api.json")).unwrap()).unwrap();
    assert!(json_file["paths"]["/hi"].is_object(), "{json_file:#}");

    let listed = api.project.fink(&["api", "list", "--json"]).ok().json();
    let row = listed.as_array().unwrap().iter().find(|a| a["id"] == json!(id)).cloned().unwrap();
    assert_eq!(row["name"], json!(api.name));
    assert!(row["created"].as_str().is_some_and(|c| c.ends_with('Z')), "{row}");
    let table = api.project.fink(&["api", "list"]).ok();
    assert!(table.stdout.contains(&api.name) && table.stdout.contains(&id), "{}", table.stdout);

    let refused = api.fink(&["delete"]).code(1).stderr_has(&format!("not deleting API '{}' without -f", api.name));
    refused.stderr_has("fink api delete -f -e dev");
    assert_eq!(api_ids(moto, &api.name), vec![id.clone()], "still there");
    api.fink(&["delete", "-f"])
        .ok()
        .stdout_has(&format!("permission for the API to invoke {}:ACTIVE: removed", api.function))
        .stdout_has(&format!("API '{}' ({id}) deleted", api.name));
    assert!(api_ids(moto, &api.name).is_empty());
    assert!(statements(moto, &api.alias_arn).is_empty(), "{:?}", statements(moto, &api.alias_arn));
    api.fink(&["delete", "-f"]).code(1).stderr_has(&format!("API '{}' does not exist", api.name));
    api.fink(&["export"]).code(1).stderr_has(&format!("API '{}' does not exist", api.name));
}

#[test]
fn template_and_config_errors_are_named_before_any_api_gateway_call() {
    let moto = Moto::shared();
    let api = Api::new(moto, "apierr", json!({}));

    api.project.file("swagger.yaml", &SWAGGER.replace("{{helloRef}}", "{{byeRef}}"));
    let (run, calls) = moto.record(|| api.fink(&["deploy"]));
    run.code(1).stderr_has("swagger.yaml:17: unknown placeholder {{byeRef}}").stderr_has("helloRef");
    // It stopped before looking up the function, the first thing deploy asks AWS.
    assert!(!calls.iter().any(|c| c.path.contains(&api.function)), "{calls:?}");

    api.project.file("swagger.yaml", &SWAGGER.replace("\"{{apiName}}\"", "other-title"));
    api.fink(&["deploy"])
        .code(1)
        .stderr_has(&format!("swagger.yaml: info.title is 'other-title' but api.api.name is '{}'", api.name));

    std::fs::remove_file(api.project.dir().join("swagger.yaml")).unwrap();
    api.fink(&["deploy"]).code(1).stderr_has("no swagger.yaml (or swagger.yml, swagger.json) in ");
    api.project.file("swagger.yaml", SWAGGER);

    let mut config = api_section(&api.name, "no-such-fn", json!({}), json!({}));
    api.config(config.clone());
    let (run, calls) = moto.record(|| api.fink(&["deploy"]));
    run.code(1).stderr_has("api.lambda.entries[0]: function 'no-such-fn' does not exist");
    // The lookup the template errors above never got to.
    assert!(calls.iter().any(|c| c.path.contains("no-such-fn")), "{calls:?}");
    config["api"]["lambda"]["entries"][0] = json!({"name": api.function, "alias": "LIVE", "swaggerRef": "helloRef"});
    api.config(config);
    api.fink(&["deploy"])
        .code(1)
        .stderr_has(&format!("api.lambda.entries[0]: function '{}' has no alias LIVE", api.function));

    api.config(api_section(&api.name, &api.function, json!({"targetStage": 5}), json!({})));
    api.fink(&["deploy"])
        .code(1)
        .stderr_has("invalid config in fink_dev.json (1 problem):")
        .stderr_has("api.api.targetStage: expected string, got 5");
    api.config(api_section(&api.name, &api.function, json!({"cacheClusterSize": "2"}), json!({})));
    api.fink(&["deploy"]).code(1).stderr_has("api.api.cacheClusterSize: '2' is not a cache size");
    api.config(api_section(
        &api.name,
        &api.function,
        json!({"methodSettings": {"/hi": {"cachingEnabled": true}}}),
        json!({}),
    ));
    api.fink(&["deploy"]).code(1).stderr_has("api.api.methodSettings['/hi']: the key is <resource path>/<HTTP method>");
    assert!(api_ids(moto, &api.name).is_empty(), "no API was made");
}

#[test]
fn a_swagger_2_document_reaches_api_gateway_as_written() {
    let moto = Moto::shared();
    let api = Api::new(moto, "apiswagger", json!({}));
    let template = "swagger: \"2.0\"\ninfo:\n  title: \"{{apiName}}\"\n  description: \"{{apiDescription}}\"\n  version: \"1\"\n\
                    basePath: \"{{apiBasePath}}\"\npaths:\n  /hi:\n    get:\n      responses:\n        \"200\":\n          \
                    description: hello\n      x-amazon-apigateway-integration:\n        type: aws_proxy\n        \
                    httpMethod: POST\n        uri: \"{{helloRef}}\"\n";
    api.project.file("swagger.yaml", template);
    let (run, calls) = moto.record(|| api.fink(&["deploy"]));
    // moto 5.2.5 imports OpenAPI 3 only; AWS takes Swagger 2.0. What matters here is the request.
    run.code(1).stderr_has("Only OpenAPI 3.x.x are currently supported");
    let import = calls
        .iter()
        .find(|c| c.method == "POST" && c.path == "/restapis" && c.body.contains(&api.name))
        .expect("an ImportRestApi call");
    let expected = template
        .replace("{{apiName}}", &api.name)
        .replace("{{apiDescription}}", "the hello API")
        .replace("{{apiBasePath}}", "/dev")
        .replace("{{helloRef}}", &api.uri());
    assert_eq!(import.body, expected);
}

#[test]
fn slack_announces_the_api_deploy_with_its_url() {
    let moto = Moto::shared();
    let hook = Webhook::start(Reply::Status(200));
    let plugins = [PLUGINS, &["fink-plugin-slack"]].concat();
    let api = Api::with(moto, "apislack", &plugins, json!({}), json!({"plugins": {"slack": {"webhook": hook.url()}}}));
    let id = created_id(&api.fink(&["deploy"]).ok(), &api.name);
    let requests = hook.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let message = requests[0].json();
    assert_eq!(message["text"], json!(format!("api deploy succeeded for api '{}' in dev", api.name)), "{message:#}");
    let fields = message["attachments"][0]["fields"].as_array().cloned().unwrap_or_default();
    let field = |title: &str| fields.iter().find(|f| f["title"] == title).map(|f| f["value"].clone());
    assert_eq!(field("Api"), Some(json!(api.name)), "{message:#}");
    assert_eq!(
        field("URL"),
        Some(json!(format!("https://{id}.execute-api.{REGION}.amazonaws.com/dev"))),
        "{message:#}"
    );
}
