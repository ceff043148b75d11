package rules

import (
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// stackView is the stack's Pub/Sub resources as the stack policies read them.
type stackView struct {
	topics []topicView
	subs   []subView
	grants []grantView
	// uncertain is true when some grant's target or role is unknown: such a grant may be the
	// one any check is missing, so no "missing grant" finding is reported.
	uncertain bool
	// unknownMember holds what grants with a member not known yet grant on: such a grant may
	// be the one a check of that target and role is missing (a service agent whose project
	// number is known only at deploy).
	unknownMember map[grantKey]bool

	// Indexes by name, so that the stack policies stay linear in the number of pipelines.
	topicsByName    map[string][]int
	subsByName      map[string][]int
	subsByTopicName map[string][]int
	// subsUnknownTopic is true when some subscription's topic is not known.
	subsUnknownTopic bool
	grantsByKey      map[grantKey][]int
	// appMembers are the application service accounts that hold some grant, sorted.
	appMembers []string
}

// grantKey groups grants by what they grant on.
type grantKey struct {
	onTopic bool
	name    string
	role    string
}

type topicView struct {
	r   policyx.AnalyzerResource
	ref spec.Ref
}

type subView struct {
	r    policyx.AnalyzerResource
	ref  spec.Ref
	name string
	// topic is the subscription's topic; topicOK is false when it is not known.
	topic   spec.Ref
	topicOK bool
	// hasDLP is true when the subscription has a dead-letter policy; an unknown policy counts
	// as none, since nothing can be said about it.
	hasDLP bool
	// deadLetter is the dead-letter topic; deadLetterOK is false when there is none or it is
	// not known.
	deadLetter   spec.Ref
	deadLetterOK bool
}

type grantView struct {
	r        policyx.AnalyzerResource
	onTopic  bool // a topic grant; else a subscription grant
	target   spec.Ref
	targetOK bool
	role     string
	members  []string
}

// newStackView reads the stack's topics, subscriptions and Pub/Sub IAM grants. A reference
// that is unknown during a preview (a topic id not created yet) is resolved, when it can be,
// through the property's dependency on the topic or subscription resource.
func newStackView(resources []policyx.AnalyzerResource) stackView {
	rd := reader{byURN: map[string]policyx.AnalyzerResource{}}
	for _, r := range resources {
		rd.byURN[r.URN] = r
	}
	v := stackView{unknownMember: map[grantKey]bool{}}
	for _, r := range resources {
		switch r.Type {
		case spec.TopicType:
			v.topics = append(v.topics, topicView{r: r, ref: self(r)})
		case spec.SubscriptionType:
			v.subs = append(v.subs, rd.subscription(r))
		default:
			if module, typeName, ok := iamType(r.Type); ok && module == "pubsub" && isGrant(typeName) {
				v.addGrants(rd, r)
			}
		}
	}
	v.index()
	return v
}

// reader reads references between the stack's resources.
type reader struct {
	byURN map[string]policyx.AnalyzerResource
}

// resolve finds the one resource of type typ that property key of r depends on.
func (rd reader) resolve(r policyx.AnalyzerResource, key, typ string) (spec.Ref, bool) {
	var found []spec.Ref
	for _, u := range r.PropertyDependencies[key] {
		if d, ok := rd.byURN[u]; ok && d.Type == typ {
			name, ok := knownString(d.Properties, "name")
			if !ok {
				return spec.Ref{}, false
			}
			project, _ := knownString(d.Properties, "project")
			found = append(found, spec.Ref{Project: project, Name: name})
		}
	}
	if len(found) != 1 {
		return spec.Ref{}, false
	}
	return found[0], true
}

// reference reads a reference property, short or full, to a topic or a subscription.
func (rd reader) reference(r policyx.AnalyzerResource, typ string, keys ...string) (spec.Ref, bool) {
	project, _ := knownString(r.Properties, "project")
	p := get(r.Properties, keys...)
	switch {
	case p.Unknown:
		return rd.resolve(r, keys[0], typ)
	case !p.Set || !p.IsString() || p.AsString() == "":
		return spec.Ref{}, false
	}
	parse := spec.ParseSubscription
	if typ == spec.TopicType {
		parse = spec.ParseTopic
	}
	out := parse(p.AsString())
	if out.Project == "" {
		out.Project = project
	}
	return out, true
}

// self is how a topic or subscription names itself.
func self(r policyx.AnalyzerResource) spec.Ref {
	project, _ := knownString(r.Properties, "project")
	return spec.Ref{Project: project, Name: physicalName(r)}
}

// subscription reads a subscription: its topic and dead-letter topic.
func (rd reader) subscription(r policyx.AnalyzerResource) subView {
	s := subView{r: r, ref: self(r), name: physicalName(r)}
	s.topic, s.topicOK = rd.reference(r, spec.TopicType, "topic")
	dlp := get(r.Properties, "deadLetterPolicy")
	s.hasDLP = dlp.Set && !dlp.Unknown
	if s.hasDLP {
		s.deadLetter, s.deadLetterOK = rd.reference(r, spec.TopicType, "deadLetterPolicy", "deadLetterTopic")
	}
	return s
}

// addGrants reads what a Pub/Sub IAM resource grants, one grant per role.
func (v *stackView) addGrants(rd reader, r policyx.AnalyzerResource) {
	g := grantView{r: r}
	if get(r.Properties, "topic").Set {
		g.onTopic = true
		g.target, g.targetOK = rd.reference(r, spec.TopicType, "topic")
	} else {
		g.target, g.targetOK = rd.reference(r, spec.SubscriptionType, "subscription")
	}
	if !g.targetOK {
		v.uncertain = true
	}
	for _, b := range bindings(r) {
		if b.role.Unknown {
			v.uncertain = true
			continue
		}
		if !b.role.Set || !b.role.IsString() {
			continue
		}
		gb := g
		gb.role = b.role.AsString()
		gb.members = nil
		for _, m := range b.members {
			if m.Unknown && g.targetOK {
				v.unknownMember[grantKey{g.onTopic, g.target.Name, gb.role}] = true
			} else if m.Unknown {
				v.uncertain = true
			} else if m.Set && m.IsString() {
				gb.members = append(gb.members, m.AsString())
			}
		}
		v.grants = append(v.grants, gb)
	}
}

// index fills the view's indexes.
func (v *stackView) index() {
	v.topicsByName = map[string][]int{}
	for i, t := range v.topics {
		v.topicsByName[t.ref.Name] = append(v.topicsByName[t.ref.Name], i)
	}
	v.subsByName = map[string][]int{}
	v.subsByTopicName = map[string][]int{}
	for i, s := range v.subs {
		v.subsByName[s.name] = append(v.subsByName[s.name], i)
		if s.topicOK {
			v.subsByTopicName[s.topic.Name] = append(v.subsByTopicName[s.topic.Name], i)
		} else {
			v.subsUnknownTopic = true
		}
	}
	v.grantsByKey = map[grantKey][]int{}
	apps := map[string]bool{}
	for i, g := range v.grants {
		if g.targetOK {
			k := grantKey{g.onTopic, g.target.Name, g.role}
			v.grantsByKey[k] = append(v.grantsByKey[k], i)
		}
		for _, m := range g.members {
			if isAppMember(m) {
				apps[m] = true
			}
		}
	}
	for m := range apps {
		v.appMembers = append(v.appMembers, m)
	}
	slices.Sort(v.appMembers)
}

// unsure reports whether a grant of role on target may exist that the view cannot read: one
// with an unknown target or role anywhere, or an unknown member on that target and role.
func (v stackView) unsure(onTopic bool, target spec.Ref, role string) bool {
	return v.uncertain || v.unknownMember[grantKey{onTopic, target.Name, role}]
}

// granted reports whether some grant gives role on target (a topic or subscription) to a
// member that satisfies who.
func (v stackView) granted(onTopic bool, target spec.Ref, role string, who func(string) bool) bool {
	for _, i := range v.grantsByKey[grantKey{onTopic, target.Name, role}] {
		if g := v.grants[i]; g.target.Matches(target) && slices.ContainsFunc(g.members, who) {
			return true
		}
	}
	return false
}

// topicByName returns the topic named name.
func (v stackView) topicByName(name string) (topicView, bool) {
	if is := v.topicsByName[name]; len(is) > 0 {
		return v.topics[is[0]], true
	}
	return topicView{}, false
}

// subscriptionsNamed returns the subscriptions named name.
func (v stackView) subscriptionsNamed(name string) []subView {
	var out []subView
	for _, i := range v.subsByName[name] {
		out = append(out, v.subs[i])
	}
	return out
}

// subscriptionsOn returns the subscriptions attached to topic, and whether some subscription's
// topic is not known (it might be attached too).
func (v stackView) subscriptionsOn(topic spec.Ref) (subs []subView, uncertain bool) {
	for _, i := range v.subsByTopicName[topic.Name] {
		if s := v.subs[i]; s.topic.Matches(topic) {
			subs = append(subs, s)
		}
	}
	return subs, v.subsUnknownTopic
}
