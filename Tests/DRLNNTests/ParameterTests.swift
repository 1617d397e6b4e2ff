import DRLNN
import DRLTensor
import Testing

@Suite struct ParameterTests {
    @Test func valueAndGradientAreWorkspaceTensorsSharingWrites() {
        let p = Parameter("weight", shape: Shape(2, 3))
        #expect(p.value.isWorkspace && p.gradient.isWorkspace && p.shape == Shape(2, 3))
        var view = p.value
        view[1, 2] = 5
        #expect(p.value[1, 2] == 5)
        var rows = p.gradient[rows: 0..<1]
        rows.fill(with: 2)
        #expect(p.gradient.scalars == [2, 2, 2, 0, 0, 0])
    }
}
