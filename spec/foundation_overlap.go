package spec

// The foundation's branch declares these two identically in spec/foundation.go; they are here
// so that the policy pack builds before the two branches merge. Delete this file when merging.

// CustomRoleName is a project's custom role: projects/<project>/roles/<id>.
func CustomRoleName(project, id string) string { return ProjectName(project) + "/roles/" + id }

// RoleWorkloadIdentityUser lets a principal impersonate a service account through Workload
// Identity Federation.
const RoleWorkloadIdentityUser = "roles/iam.workloadIdentityUser"
