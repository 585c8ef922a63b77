# tflint configuration for infra/terraform (run by `go tool task deploy:terraform:lint`).
# Only the rules bundled with tflint (the "terraform" ruleset): the AWS ruleset
# is a plugin downloaded from GitHub, which this project cannot reach.
config {
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "all"
}

# Module sources are local paths; there is nothing to pin.
rule "terraform_module_pinned_source" {
  enabled = false
}
