use super::*;
use fink_plugin_api::json;

fn target() -> Target {
    Target { bucket: Some("bkt".into()), prefix: "p/".into(), region: Some("eu-west-1".into()) }
}

fn package(dir: &Path, file: &str) -> Result<Packaged> {
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    let template = crate::template::parse(&text, file).unwrap();
    let settings = Settings { template: Some(file.into()), ..Default::default() };
    Packager::new(dir, target()).template(&settings, &template)
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_nested_template_with_its_own_code_is_packaged_first() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "src/app.py", "def handler(e, c): return 1\n");
    write(
        dir.path(),
        "stacks/child.yaml",
        "Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      Code: ../src\n      Role: !Ref R\n",
    );
    write(
        dir.path(),
        "cloudformation.yaml",
        "Resources:\n  Net:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: stacks/child.yaml\n  Other:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: https://example.com/t.json\n",
    );
    let packaged = package(dir.path(), "cloudformation.yaml").unwrap();
    let url = packaged.doc["Resources"]["Net"]["Properties"]["TemplateURL"].as_str().unwrap().to_string();
    assert!(url.starts_with("https://bkt.s3.eu-west-1.amazonaws.com/p/") && url.ends_with(".template"), "{url}");
    assert_eq!(packaged.doc["Resources"]["Other"]["Properties"]["TemplateURL"], "https://example.com/t.json");
    assert_eq!(packaged.uploads.len(), 2);
    let child = &packaged.nested[0];
    assert_eq!((child.logical_id.as_str(), child.source.as_str()), ("Net", "stacks/child.yaml"));
    let code = &child.packaged.doc["Resources"]["Fn"]["Properties"]["Code"];
    assert_eq!(code["S3Bucket"], "bkt");
    let zip_key = code["S3Key"].as_str().unwrap();
    assert!(zip_key.starts_with("p/") && zip_key.ends_with(".zip"));
    assert_eq!(child.packaged.doc["Resources"]["Fn"]["Properties"]["Role"], json!({"Ref": "R"}));
    // The same files give the same keys.
    let again = package(dir.path(), "cloudformation.yaml").unwrap();
    assert_eq!(again.body, packaged.body);
    assert!(!needed(&packaged.nested[0].packaged.doc) && needed(&package_doc(dir.path())));
}

fn package_doc(dir: &Path) -> Value {
    crate::template::parse(&std::fs::read_to_string(dir.join("cloudformation.yaml")).unwrap(), "t").unwrap().doc
}

#[test]
fn a_cycle_of_nested_templates_names_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let stack = |url: &str| {
        format!("Resources:\n  S:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: {url}\n")
    };
    write(dir.path(), "cloudformation.yaml", &stack("a.yaml"));
    write(dir.path(), "a.yaml", &stack("b/b.yaml"));
    write(dir.path(), "b/b.yaml", &stack("../a.yaml"));
    let err = package(dir.path(), "cloudformation.yaml").unwrap_err();
    assert_eq!(err.message(), "nested templates form a cycle: cloudformation.yaml -> a.yaml -> b/b.yaml -> a.yaml");
}

#[test]
fn rain_directives_become_text_data_values_and_locations() {
    let dir = tempfile::tempdir().unwrap();
    std::env::set_var("FINK_PACKAGE_TEST_ENV", "from-env");
    write(dir.path(), "files/script.sh", "echo hi\n");
    write(dir.path(), "files/data.yaml", "Size: 3\nName: !Rain::Env FINK_PACKAGE_TEST_ENV\n");
    write(dir.path(), "site/index.html", "<p>hi</p>");
    write(
        dir.path(),
        "cloudformation.yaml",
        "Resources:\n  R:\n    Type: X\n    Properties:\n      Script: !Rain::Embed files/script.sh\n      Data: !Rain::Include files/data.yaml\n      Env: !Rain::Env FINK_PACKAGE_TEST_ENV\n      Uri: !Rain::S3 site\n      Http: !Rain::S3Http files/script.sh\n      Obj: !Rain::S3\n        Path: files/script.sh\n        Zip: true\n        BucketProperty: B\n        KeyProperty: K\n",
    );
    let packaged = package(dir.path(), "cloudformation.yaml").unwrap();
    let p = &packaged.doc["Resources"]["R"]["Properties"];
    assert_eq!(p["Script"], "echo hi\n");
    assert_eq!(p["Data"], json!({"Size": 3, "Name": "from-env"}));
    assert_eq!(p["Env"], "from-env");
    assert!(p["Uri"].as_str().unwrap().starts_with("s3://bkt/p/") && p["Uri"].as_str().unwrap().ends_with(".zip"));
    assert!(p["Http"].as_str().unwrap().starts_with("https://bkt.s3.eu-west-1.amazonaws.com/p/"));
    assert!(p["Http"].as_str().unwrap().ends_with(".sh"));
    assert_eq!(p["Obj"]["B"], "bkt");
    assert!(p["Obj"]["K"].as_str().unwrap().ends_with(".zip"));
    assert_eq!(packaged.uploads.len(), 3);
}

#[test]
fn errors_name_the_template_resource_property_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let function = |code: &str| {
        format!("Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      Code: {code}\n")
    };
    write(dir.path(), "cloudformation.yaml", &function("./nope"));
    let err = package(dir.path(), "cloudformation.yaml").unwrap_err();
    assert!(
        err.message().starts_with("cloudformation.yaml: resource Fn property Code: local path './nope' does not exist"),
        "{}",
        err.message()
    );
    write(dir.path(), "cloudformation.yaml", &function("../outside"));
    std::fs::create_dir_all(dir.path().join("../outside")).ok();
    let err = package(dir.path(), "cloudformation.yaml").unwrap_err();
    assert!(err.message().contains("does not exist") || err.message().contains("leaves the project folder"));
    write(dir.path(), "src/a.py", "x");
    write(dir.path(), "cloudformation.yaml", &function("src"));
    let text = std::fs::read_to_string(dir.path().join("cloudformation.yaml")).unwrap();
    let template = crate::template::parse(&text, "cloudformation.yaml").unwrap();
    let no_bucket = Target { bucket: None, prefix: String::new(), region: None };
    let err = Packager::new(dir.path(), no_bucket.clone()).template(&Settings::default(), &template).unwrap_err();
    assert_eq!(
        err.message(),
        "cloudformation.yaml: resource Fn property Code: uploading the local path 'src' needs cloud.stack.artifactBucket"
    );
    // Drawing needs no bucket.
    assert!(Packager::new(dir.path(), no_bucket).drawing().template(&Settings::default(), &template).is_ok());
    write(
        dir.path(),
        "cloudformation.yaml",
        "Resources:\n  M:\n    Type: X\n    Properties:\n      A: !Rain::Module m.yaml\n",
    );
    let err = package(dir.path(), "cloudformation.yaml").unwrap_err();
    assert!(
        err.message().starts_with("cloudformation.yaml: resource M: the Rain directive Rain::Module is not supported"),
        "{}",
        err.message()
    );
}

#[test]
fn the_include_transform_location_becomes_an_s3_uri() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "maps.json", r#"{"Sizes": {"dev": {"n": "3"}}}"#);
    write(
        dir.path(),
        "cloudformation.json",
        r#"{"Mappings": {"M": {"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "maps.json"}}}},
            "Resources": {"T": {"Type": "AWS::SNS::Topic"}}}"#,
    );
    let packaged = package(dir.path(), "cloudformation.json").unwrap();
    let location = packaged.doc["Mappings"]["M"]["Fn::Transform"]["Parameters"]["Location"].as_str().unwrap();
    assert!(location.starts_with("s3://bkt/p/") && location.ends_with(".json"), "{location}");
}

#[test]
fn names_that_start_with_rain_are_no_directives() {
    let doc = json!({"Resources": {"RainGauge": {"Type": "AWS::SNS::Topic", "Properties": {"RainMm": "3"}}}});
    assert!(!needed(&doc));
    assert!(needed(&json!({"Rain": {"Constants": {}}, "Resources": {}})));
    assert!(needed(&json!({"Resources": {"T": {"Type": "X", "Properties": {"A": {"Fn::Rain::Env": "X"}}}}})));
}

#[test]
fn every_property_of_the_table_gets_the_location_in_its_form() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "files/a.txt", "text");
    write(dir.path(), "child.json", r#"{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}"#);
    for property in properties::PROPERTIES {
        let local = if property.content == Content::Template { "child.json" } else { "files/a.txt" };
        let mut value = json!(local);
        for key in property.path.iter().rev() {
            value = json!({ *key: value });
        }
        let doc = json!({"Resources": {"R": {"Type": property.resource, "Properties": value}}});
        write(dir.path(), "cloudformation.json", &doc.to_string());
        let packaged = package(dir.path(), "cloudformation.json").unwrap();
        let mut slot = &packaged.doc["Resources"]["R"]["Properties"];
        for key in property.path {
            slot = &slot[*key];
        }
        let what = format!("{} {}", property.resource, property.name());
        match property.form {
            properties::Form::Uri => assert!(slot.as_str().unwrap().starts_with("s3://bkt/p/"), "{what}: {slot}"),
            properties::Form::Url => {
                assert!(
                    slot.as_str().unwrap().starts_with("https://bkt.s3.eu-west-1.amazonaws.com/p/"),
                    "{what}: {slot}"
                )
            }
            properties::Form::Object { bucket, key } => {
                assert_eq!(slot[bucket], "bkt", "{what}: {slot}");
                assert!(slot[key].as_str().unwrap().starts_with("p/"), "{what}: {slot}");
            }
        }
        // A zip-only property zips a plain file; the others upload it as it is.
        let key = &packaged.uploads.iter().find(|u| !u.key.ends_with(".template")).map(|u| u.key.clone());
        if property.content == Content::Zip {
            assert!(key.as_deref().unwrap().ends_with(".zip"), "{what}");
        } else if property.content != Content::Template {
            assert!(key.as_deref().unwrap().ends_with(".txt"), "{what}");
        }
    }
}
