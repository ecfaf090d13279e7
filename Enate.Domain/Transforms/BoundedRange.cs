using Fluid;
using Fluid.Ast;
using Fluid.Values;

namespace Enate.Domain.Transforms;

/// A Liquid range `(a..b)` that counts its numbers before it makes them. Fluid's own makes the whole list at once
/// (`(1..100000000)` is gigabytes before a loop's first step counts), and its bounds may come from a run's data; this
/// one refuses more than the step's `MaxRange`. Every range a template holds is replaced by one when it is parsed.
internal sealed class BoundedRange(Expression from, Expression to) : Expression
{
    /// Where a render keeps its step's limit (TemplateContext.AmbientValues).
    public const string Limit = "enate.maxRange";

    public static readonly AstRewriter Rewriter = new Ranges();

    public override async ValueTask<FluidValue> EvaluateAsync(TemplateContext context)
    {
        var start = Convert.ToInt64((await from.EvaluateAsync(context)).ToNumberValue());
        var end = Convert.ToInt64((await to.EvaluateAsync(context)).ToNumberValue());
        var count = Math.Max(0, end - start + 1);
        var max = context.AmbientValues.TryGetValue(Limit, out var limit) && limit is int set ? set : TransformLimits.Default.MaxRange;
        if (count > max) throw new TooLarge(count);
        var numbers = new FluidValue[count];
        for (var i = 0; i < count; i++) numbers[i] = NumberValue.Create(start + i);
        return new ArrayValue(numbers);
    }

    protected override Expression Accept(AstVisitor visitor) => this;

    public sealed class TooLarge(long count) : Exception
    {
        public long Count { get; } = count;
    }

    private sealed class Ranges : AstRewriter
    {
        protected override Expression VisitRangeExpression(RangeExpression range) =>
            new BoundedRange(Visit(range.From), Visit(range.To));
    }
}
