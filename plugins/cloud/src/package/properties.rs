//! The resource properties that may name a local file or folder, as `aws cloudformation package`
//! lists them (plus SAM's `HttpApi` and AppSync's `CodeS3Location`), with the form the S3 location
//! takes there. docs/cloud.md shows this table; a unit test keeps the two the same.

/// How a property names an S3 object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `https://<bucket>.s3.<region>.amazonaws.com/<key>`
    Url,
    /// `s3://<bucket>/<key>`
    Uri,
    /// An object with the bucket and the key under these names.
    Object { bucket: &'static str, key: &'static str },
}

/// What the local path may be, and what is uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// A template: packaged itself first (its own local artifacts and directives), then uploaded.
    Template,
    /// A file, uploaded as it is.
    File,
    /// A folder is zipped; a file is uploaded as it is.
    FolderZipped,
    /// A folder is zipped, and so is a file that is not a zip already.
    Zip,
}

/// One packaged property: `path` leads from the resource's `Properties` to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Property {
    pub resource: &'static str,
    pub path: &'static [&'static str],
    pub form: Form,
    pub content: Content,
}

/// `Fn::Transform: {Name: AWS::Include, Parameters: {Location: ...}}`, anywhere in a template.
pub const INCLUDE: Property =
    Property { resource: "AWS::Include", path: &["Location"], form: Form::Uri, content: Content::File };

const fn p(resource: &'static str, path: &'static [&'static str], form: Form, content: Content) -> Property {
    Property { resource, path, form, content }
}

const S3_BUCKET_KEY: Form = Form::Object { bucket: "S3Bucket", key: "S3Key" };
const BUCKET_KEY: Form = Form::Object { bucket: "Bucket", key: "Key" };

/// The resource properties (the `AWS::Include` transform is [`INCLUDE`]).
pub const PROPERTIES: &[Property] = &[
    p("AWS::ApiGateway::RestApi", &["BodyS3Location"], BUCKET_KEY, Content::File),
    p("AWS::Lambda::Function", &["Code"], S3_BUCKET_KEY, Content::Zip),
    p("AWS::Lambda::LayerVersion", &["Content"], S3_BUCKET_KEY, Content::Zip),
    p("AWS::Serverless::Function", &["CodeUri"], Form::Uri, Content::Zip),
    p("AWS::Serverless::LayerVersion", &["ContentUri"], Form::Uri, Content::Zip),
    p("AWS::Serverless::Application", &["Location"], Form::Url, Content::Template),
    p("AWS::Serverless::Api", &["DefinitionUri"], Form::Uri, Content::File),
    p("AWS::Serverless::HttpApi", &["DefinitionUri"], Form::Uri, Content::File),
    p("AWS::Serverless::StateMachine", &["DefinitionUri"], Form::Uri, Content::File),
    p("AWS::AppSync::GraphQLSchema", &["DefinitionS3Location"], Form::Uri, Content::File),
    p("AWS::AppSync::Resolver", &["RequestMappingTemplateS3Location"], Form::Uri, Content::File),
    p("AWS::AppSync::Resolver", &["ResponseMappingTemplateS3Location"], Form::Uri, Content::File),
    p("AWS::AppSync::Resolver", &["CodeS3Location"], Form::Uri, Content::File),
    p("AWS::AppSync::FunctionConfiguration", &["RequestMappingTemplateS3Location"], Form::Uri, Content::File),
    p("AWS::AppSync::FunctionConfiguration", &["ResponseMappingTemplateS3Location"], Form::Uri, Content::File),
    p("AWS::AppSync::FunctionConfiguration", &["CodeS3Location"], Form::Uri, Content::File),
    p("AWS::ElasticBeanstalk::ApplicationVersion", &["SourceBundle"], S3_BUCKET_KEY, Content::FolderZipped),
    p("AWS::CloudFormation::Stack", &["TemplateURL"], Form::Url, Content::Template),
    p("AWS::Glue::Job", &["Command", "ScriptLocation"], Form::Uri, Content::File),
    p("AWS::StepFunctions::StateMachine", &["DefinitionS3Location"], BUCKET_KEY, Content::File),
    p("AWS::CodeCommit::Repository", &["Code", "S3"], BUCKET_KEY, Content::Zip),
];

/// The packaged properties of a resource type.
pub fn of(resource_type: &str) -> impl Iterator<Item = &'static Property> + '_ {
    PROPERTIES.iter().filter(move |p| p.resource == resource_type)
}

impl Property {
    /// `Command.ScriptLocation`
    pub fn name(&self) -> String {
        self.path.join(".")
    }
}

/// The table as docs/cloud.md shows it (a Markdown table; a test checks the docs).
#[cfg(test)]
pub fn markdown() -> String {
    let mut out = String::from("| Resource type | Property | Becomes | A folder |\n|---|---|---|---|\n");
    for p in PROPERTIES.iter().chain([&INCLUDE]) {
        let resource = if p.resource == INCLUDE.resource {
            "`AWS::Include` transform".to_string()
        } else {
            format!("`{}`", p.resource)
        };
        let form = match p.form {
            Form::Url => "`https://<bucket>.s3.<region>.amazonaws.com/<key>`".to_string(),
            Form::Uri => "`s3://<bucket>/<key>`".to_string(),
            Form::Object { bucket, key } => format!("`{{{bucket}: <bucket>, {key}: <key>}}`"),
        };
        let folder = match p.content {
            Content::Template => "no: a template, packaged first",
            Content::File => "no: a file",
            Content::FolderZipped => "zipped (a file as it is)",
            Content::Zip => "zipped (a file not yet a zip too)",
        };
        out.push_str(&format!("| {resource} | `{}` | {form} | {folder} |\n", p.name()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_cloud_md_shows_this_table() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/cloud.md");
        let docs = std::fs::read_to_string(path).unwrap();
        assert!(docs.contains(&markdown()), "docs/cloud.md's packaging table differs; it should be:\n{}", markdown());
    }

    #[test]
    fn every_property_of_the_cli_table_is_there_once() {
        for (resource, property) in [
            ("AWS::CloudFormation::Stack", "TemplateURL"),
            ("AWS::Lambda::Function", "Code"),
            ("AWS::Glue::Job", "Command.ScriptLocation"),
            ("AWS::CodeCommit::Repository", "Code.S3"),
            ("AWS::Serverless::StateMachine", "DefinitionUri"),
        ] {
            assert_eq!(of(resource).filter(|p| p.name() == property).count(), 1, "{resource} {property}");
        }
        assert_eq!(PROPERTIES.len(), 21);
    }
}
