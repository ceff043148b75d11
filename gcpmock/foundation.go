package gcpmock

import (
	"errors"
	"strings"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// The foundation's resources, answered as the provider does: ids in its import formats, and
// what it computes. Names that hold the project's number (the service agent, the pool and its
// provider) get a made-up number, which Invented reports.

func projectService(s state) (string, error) {
	if s.str("service") == "" {
		return "", errors.New("a service needs its name")
	}
	return s.project + "/" + s.str("service"), nil
}

func serviceIdentity(s state) (string, error) {
	svc := s.str("service")
	if svc != spec.PubSubService {
		return "", errors.New("the mocks know the service identity of " + spec.PubSubService + " only")
	}
	member := spec.ServiceAgent(s.m.invent(s.project))
	s.set("email", spec.MemberEmail(member))
	s.set("member", member)
	return spec.ProjectName(s.project) + "/services/" + svc, nil
}

func bucket(s state) (string, error) {
	name := s.str("name")
	if name == "" || s.str("location") == "" {
		return "", errors.New("a bucket needs a name and a location")
	}
	s.set("url", spec.BackendURL(name))
	s.set("selfLink", "https://www.googleapis.com/storage/v1/b/"+name)
	s.set("location", strings.ToUpper(s.str("location")))
	s.setDefault("storageClass", "STANDARD")
	s.labels()
	return name, nil
}

func bucketMember(s state) (string, error) {
	s.set("etag", "CAE=")
	id := spec.MemberID("b/"+s.str("bucket"), s.str("role"), s.str("member"))
	if c, ok := s.r.Inputs["condition"]; ok && c.IsObject() {
		if t := c.ObjectValue()["title"]; t.IsString() {
			id += " " + t.StringValue()
		}
	}
	return id, nil
}

func keyRing(s state) (string, error) {
	if s.str("name") == "" || s.str("location") == "" {
		return "", errors.New("a key ring needs a name and a location")
	}
	return spec.ProjectName(s.project) + "/locations/" + s.str("location") + "/keyRings/" + s.str("name"), nil
}

func cryptoKey(s state) (string, error) {
	if s.str("name") == "" || s.str("keyRing") == "" {
		return "", errors.New("a crypto key needs a name and a key ring")
	}
	s.setDefault("purpose", "ENCRYPT_DECRYPT")
	s.labels()
	return s.str("keyRing") + "/cryptoKeys/" + s.str("name"), nil
}

func workloadIdentityPool(s state) (string, error) {
	id := s.str("workloadIdentityPoolId")
	if id == "" {
		return "", errors.New("a workload identity pool needs its id")
	}
	s.set("name", spec.WorkloadIdentityPoolName(s.m.invent(s.project), id))
	s.set("state", "ACTIVE")
	return spec.WorkloadIdentityPoolName(s.project, id), nil
}

func workloadIdentityProvider(s state) (string, error) {
	pool, id := s.str("workloadIdentityPoolId"), s.str("workloadIdentityPoolProviderId")
	if pool == "" || id == "" {
		return "", errors.New("a workload identity pool provider needs its pool's id and its own")
	}
	s.set("name", spec.WorkloadIdentityProviderName(s.m.invent(s.project), pool, id))
	s.set("state", "ACTIVE")
	return spec.WorkloadIdentityProviderName(s.project, pool, id), nil
}

func customRole(s state) (string, error) {
	id := s.str("roleId")
	if id == "" || s.str("title") == "" {
		return "", errors.New("a custom role needs a roleId and a title")
	}
	name := spec.CustomRoleName(s.project, id)
	s.set("name", name)
	s.set("deleted", false)
	s.setDefault("stage", "GA")
	return name, nil
}

func projectMember(s state) (string, error) {
	s.set("etag", "BwY"+s.r.Name)
	return s.project + "/" + s.str("role") + "/" + s.str("member"), nil
}

func serviceAccountMember(s state) (string, error) {
	s.set("etag", "BwY"+s.r.Name)
	return s.str("serviceAccountId") + "/" + s.str("role") + "/" + s.str("member"), nil
}
