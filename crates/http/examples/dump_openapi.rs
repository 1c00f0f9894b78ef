//! Prints the OpenAPI document (`cargo run -p pas-http --example dump_openapi`).
fn main() {
    match pas_http::openapi().to_pretty_json() {
        Ok(json) => println!("{json}"),
        Err(e) => eprintln!("cannot serialise the OpenAPI document: {e}"),
    }
}
