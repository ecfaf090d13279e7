using System.Text.Json.Nodes;
using Enate.Domain.Connections;
using Enate.Domain.Recipes;

namespace Enate.Domain.Tests.Recipes;

public sealed class when_a_recipe_is_validated
{
    private static readonly Dictionary<string, Connection> Connections = new()
    {
        ["crm"] = new Connection { Id = "crm", Kind = "http", BaseUrl = "https://crm.example" },
        ["enate"] = new Connection { Id = "enate", Kind = "enate", BaseUrl = "https://enate.example" },
    };

    private static RecipeDefinition Recipe(params StepDefinition[] steps) => new()
    {
        Name = "Test",
        Trigger = new TriggerDefinition { Type = "api" },
        Steps = steps,
    };

    [Fact]
    public void a_good_recipe_has_no_problems()
    {
        var recipe = Recipe(
            new StepDefinition { Id = "get", Type = "http", Connection = "crm", Method = "GET", Path = "/deals/{{ input.id }}" },
            new StepDefinition { Id = "note", Type = "enate", Connection = "enate", Operation = "addNote",
                Args = new JsonObject { ["guid"] = "{{ input.guid }}", ["note"] = "Deal {{ steps.get.body.name }}" } });
        Assert.Empty(RecipeValidator.Validate(recipe, Connections));
    }

    [Fact]
    public void every_problem_is_reported_with_its_path()
    {
        var recipe = Recipe(
            new StepDefinition { Id = "get", Type = "http", Connection = "enate-missing", Method = "FETCH", Path = "{{ oops" },
            new StepDefinition { Id = "get", Type = "filter", Condition = "a[" },
            new StepDefinition { Id = "note", Type = "enate", Connection = "crm", Operation = "fly" });
        var paths = RecipeValidator.Validate(recipe, Connections).Select(p => p.Path).ToList();
        Assert.Contains("$.steps[0].connection", paths);
        Assert.Contains("$.steps[0].method", paths);
        Assert.Contains("$.steps[0].path", paths);
        Assert.Contains("$.steps[1].id", paths);
        Assert.Contains("$.steps[1].condition", paths);
        Assert.Contains("$.steps[2].connection", paths);
        Assert.Contains("$.steps[2].operation", paths);
    }

    [Fact]
    public void a_step_may_read_only_earlier_steps()
    {
        var recipe = Recipe(
            new StepDefinition { Id = "first", Type = "transform", Template = "{\"x\": \"{{ steps.second.x }}\"}" },
            new StepDefinition { Id = "second", Type = "transform", Select = "steps.first" });
        var problem = Assert.Single(RecipeValidator.Validate(recipe, Connections));
        Assert.Equal("$.steps[0]", problem.Path);
        Assert.Contains("steps.second", problem.Message);
    }

    [Fact]
    public void a_callback_needs_an_enate_action_trigger()
    {
        var recipe = Recipe(new StepDefinition { Id = "x", Type = "transform", Select = "input" }) with
        {
            Callback = new CallbackDefinition { Mode = "callEnate" },
        };
        Assert.Contains(RecipeValidator.Validate(recipe, Connections), p => p.Path == "$.callback.mode");
    }

    [Fact]
    public void enate_operations_say_which_arguments_are_missing()
    {
        var recipe = Recipe(new StepDefinition { Id = "n", Type = "enate", Connection = "enate", Operation = "addNote", Args = [] });
        var paths = RecipeValidator.Validate(recipe, Connections).Select(p => p.Path).ToList();
        Assert.Contains("$.steps[0].args.guid", paths);
        Assert.Contains("$.steps[0].args.note", paths);
    }

    [Theory]
    [InlineData("https://elsewhere.example/collect")]
    [InlineData("https://elsewhere.example/collect/{{ input.id }}")]
    [InlineData("http://{{ input.host }}/collect")]
    [InlineData("https://crm.example:8443/deals")]
    [InlineData("ftp://crm.example/deals")]
    public void a_path_on_another_origin_is_refused(string path)
    {
        var recipe = Recipe(new StepDefinition { Id = "call", Type = "http", Connection = "crm", Method = "GET", Path = path });
        Assert.Contains(RecipeValidator.Validate(recipe, Connections), p => p.Path == "$.steps[0].path");
    }

    [Theory]
    [InlineData("/deals/{{ input.id }}")]
    [InlineData("https://crm.example/deals/{{ input.id }}")]
    [InlineData("https://CRM.example:443/deals")]
    [InlineData("{{ input.path }}")]
    public void a_path_on_the_connections_origin_passes(string path)
    {
        var recipe = Recipe(new StepDefinition { Id = "call", Type = "http", Connection = "crm", Method = "GET", Path = path });
        Assert.Empty(RecipeValidator.Validate(recipe, Connections));
    }

    [Theory]
    [InlineData("Host")]
    [InlineData("content-length")]
    [InlineData("Idempotency-Key")]
    public void a_step_may_not_set_the_transports_headers(string header)
    {
        var recipe = Recipe(new StepDefinition
        {
            Id = "call", Type = "http", Connection = "crm", Method = "GET", Path = "/x", Headers = new Dictionary<string, string> { [header] = "v" },
        });
        Assert.Contains(RecipeValidator.Validate(recipe, Connections), p => p.Path == $"$.steps[0].headers.{header}");
    }

    [Fact]
    public void a_raw_value_in_a_path_is_pointed_out()
    {
        var recipe = Recipe(new StepDefinition { Id = "call", Type = "http", Connection = "crm", Method = "GET", Path = "/x/{{ input.rest | raw }}" });
        Assert.Empty(RecipeValidator.Validate(recipe, Connections));
        Assert.Equal("$.steps[0].path", Assert.Single(RecipeValidator.Notes(recipe)).Path);
    }

    [Theory]
    [InlineData("P9000Y")]
    [InlineData("P30000Y")]
    [InlineData("1e300")]
    [InlineData("P31D")]
    public void a_retry_delay_beyond_thirty_days_is_refused(string delay)
    {
        var recipe = Recipe(new StepDefinition { Id = "x", Type = "transform", Select = "input" }) with
        {
            Retry = new RetryPolicy { Schedule = ["PT0S", delay] },
        };
        Assert.Contains(RecipeValidator.Validate(recipe, Connections), p => p.Path == "$.retry.schedule[1]");
    }
}
